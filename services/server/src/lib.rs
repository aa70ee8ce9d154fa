//! `flotilla-server`: composes the services' routers into one application and runs it.

pub mod app;
mod connections;
mod openapi;
pub mod serve;
