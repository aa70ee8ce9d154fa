//! `flotilla-server`: composes the services' routers into one application and runs it.

pub mod app;
mod connections;
pub mod healthcheck;
mod openapi;
pub mod serve;
pub mod services;
pub mod settings;
