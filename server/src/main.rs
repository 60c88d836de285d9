//! `uringo-server`: servers built on the uringo runtime. One subcommand per server.

mod chat;
// Not yet called by `chat`: wired in once the chat redesign lands (#12).
#[allow(dead_code, unused_imports)]
mod cluster;
mod echo;
// Without `metrics-http` nothing scrapes: the counters are kept but unread.
#[cfg_attr(not(feature = "metrics-http"), allow(dead_code, unused_imports))]
mod metrics;
mod scaffold;

use clap::{Parser, Subcommand};
use std::io::IsTerminal;
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
    /// TCP echo server: every byte received is sent back.
    Echo(echo::EchoArgs),
    /// IRC-compatible chat server, sharded across cores.
    Chat(chat::ChatArgs),
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let result = match Cli::parse().command {
        Command::Echo(args) => echo::run(args),
        Command::Chat(args) => chat::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn echo_flags() {
        let cli = Cli::try_parse_from([
            "uringo-server",
            "echo",
            "--listen",
            "127.0.0.1:0",
            "--cores",
            "2",
            "--stats-interval",
            "5",
        ])
        .unwrap();
        let Command::Echo(a) = cli.command else {
            panic!("parsed as another subcommand");
        };
        assert_eq!(a.listen, "127.0.0.1:0".parse().unwrap());
        assert_eq!((a.cores, a.stats_interval), (Some(2), 5));
        assert!(Cli::try_parse_from(["uringo-server", "echo", "--cores", "0"]).is_err());
    }

    #[test]
    fn backend_flag() {
        let parse = |args: &[&str]| Cli::try_parse_from(args.iter().copied());
        for (value, backend) in [
            ("auto", uringo::Backend::Auto),
            ("io-uring", uringo::Backend::IoUring),
            ("epoll", uringo::Backend::Epoll),
        ] {
            let Command::Echo(a) = parse(&["uringo-server", "echo", "--backend", value])
                .unwrap()
                .command
            else {
                panic!("parsed as another subcommand");
            };
            assert_eq!(a.backend, Some(backend));
            let Command::Chat(a) = parse(&["uringo-server", "chat", "--backend", value])
                .unwrap()
                .command
            else {
                panic!("parsed as another subcommand");
            };
            assert_eq!(a.backend, Some(backend));
        }
        let err = parse(&["uringo-server", "echo", "--backend", "kqueue"]).unwrap_err();
        assert!(err.to_string().contains("io-uring"), "{err}");
    }
}
