//! `flotilla`: the command line of Flotilla. Log in (`configure`), register clusters, manage
//! tokens, and get kubeconfigs whose credentials come from `flotilla exec-credential`.

mod api;
mod cli;
mod cluster_tokens;
mod commands;
mod error;
mod identity;
mod kubeconfig;
mod login;
mod output;
mod session;
mod spinner;
mod store;
mod token_endpoint;

use clap::Parser;

fn main() {
    let cli = cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start: {e}");
            std::process::exit(1);
        }
    };
    if let Err(e) = runtime.block_on(commands::run(cli)) {
        eprintln!("error: {e}");
        std::process::exit(e.exit_code());
    }
}
