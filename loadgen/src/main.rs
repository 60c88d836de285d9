//! The `uringo-loadgen` command: runs the load, prints the summary, exits 1 if any error was
//! seen (so scripts cannot miss a corrupted or failed run), 2 if the run could not happen.

use clap::Parser;
use std::process::ExitCode;
use uringo_loadgen::cli::{Cli, Command};
use uringo_loadgen::output;

/// Prints the summary for people: on stdout, or stderr when `--json -` put JSON there.
fn show(summary: &dyn std::fmt::Display, json: Option<&std::path::Path>) {
    if output::is_stdout(json) {
        eprintln!("{summary}");
    } else {
        println!("{summary}");
    }
}

fn main() -> ExitCode {
    let outcome = match Cli::parse().command {
        Command::Echo(args) => uringo_loadgen::echo::run(&args).map(|r| {
            show(&r.summary, args.json.as_deref());
            r.summary.error_total
        }),
        Command::Chat(args) => uringo_loadgen::chat::run(&args).map(|s| {
            show(&s, args.json.as_deref());
            s.error_total + s.lost + s.duplicated + s.out_of_order + s.order_conflicts
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
