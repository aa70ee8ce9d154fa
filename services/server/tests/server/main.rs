//! End-to-end tests of flotilla-server: in-process against a real Postgres, and the real
//! binary as an operator runs it. Each module is one area of the product, except `support`,
//! which holds what several areas share; areas import from it, never from one another.

mod accounts;
mod agent;
mod binary;
mod cli;
mod clients;
mod clusters;
mod connections;
mod console;
mod contract;
mod directory;
mod dns;
mod docs;
mod errors;
mod faults;
mod fuzz;
mod migrations;
mod monitoring;
mod observability;
mod openapi;
mod proxies;
mod services;
mod support;
mod walkthrough;
