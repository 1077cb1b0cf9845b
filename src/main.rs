//! The `kiemke` command: parses the command line, sets up logging and runs the command
//! ([`kiemke::cli`]).

use std::process::ExitCode;

use clap::Parser;
use kiemke::cli::{self, Cli};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn")),
        )
        .init();
    let cli = Cli::parse();
    match cli::run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("kiemke: {message}");
            ExitCode::FAILURE
        }
    }
}
