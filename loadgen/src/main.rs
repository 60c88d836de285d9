//! The `uringo-loadgen` command.

use clap::Parser;
use uringo_loadgen::cli::{Cli, Command};

fn main() {
    let cli = Cli::parse();
    match cli.command {
        Command::Echo(_) | Command::Chat(_) => {
            eprintln!("uringo-loadgen: the I/O side is not built yet");
            std::process::exit(2);
        }
    }
}
