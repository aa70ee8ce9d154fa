//! `flotilla-server`: composes the services' routers into one application and runs it.

pub mod app;
pub mod serve;
