//! The `uringo-loadgen` command: runs the load, prints the summary, exits 1 if any error was
//! seen (so scripts cannot miss a corrupted or failed run), 2 if the run could not happen.

use clap::Parser;
use std::process::ExitCode;
use uringo_loadgen::cli::{Cli, Command};

fn main() -> ExitCode {
    let outcome = match Cli::parse().command {
        Command::Echo(args) => uringo_loadgen::echo::run(&args).map(|r| {
            println!("{}", r.summary);
            r.summary.error_total
        }),
        Command::Chat(args) => uringo_loadgen::chat::run(&args).map(|s| {
            println!("{s}");
            s.error_total + s.lost + s.duplicated + s.out_of_order
        }),
    };
    match outcome {
        Ok(0) => ExitCode::SUCCESS,
        Ok(_) => ExitCode::from(1),
        Err(e) => {
            eprintln!("uringo-loadgen: {e}");
            ExitCode::from(2)
        }
    }
}
