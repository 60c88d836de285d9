//! `uringo-server`: servers built on the uringo runtime. One subcommand per server.

mod chat;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "uringo-server",
    version,
    about = "Servers on the uringo io_uring runtime"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// IRC-compatible chat server, sharded across cores.
    Chat(chat::ChatArgs),
}

fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Command::Chat(args) => chat::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("uringo-server: {e}");
            ExitCode::FAILURE
        }
    }
}
