//! What chat-compare prints: the conditions, a line per run, then markdown tables of medians
//! with ratios against the best peer and the goals.

use std::time::Duration;

use uringo_benches::irc::IrcKind;
use uringo_benches::procfs::loadavg;
use uringo_benches::stats::{fixed, median, ratio, thousands, Table};

use super::workload::{Step, Workload};
use super::{Cli, Climb, Measured, Run};

fn package_version(name: &str) -> String {
    std::process::Command::new("dpkg-query")
        .args(["-W", "-f", "${Version}", name])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_else(|| "?".into())
}

pub fn preamble(cli: &Cli) -> String {
    let command: Vec<String> = std::env::args().collect();
    format!(
        "`{}`\n\nservers on CPU {}, loadgen (1 core) on CPU {}, {}; {} rounds, server \
         order rotated each round; InspIRCd {}, ngIRCd {} (clients connected at most {} at \
         a time: its listen backlog is 10); load average before: {}\n",
        command.join(" "),
        cli.server_cpu,
        cli.loadgen_cpu,
        if cli.realtime {
            "SCHED_FIFO"
        } else {
            "normal scheduling"
        },
        cli.rounds,
        package_version("inspircd"),
        package_version("ngircd"),
        IrcKind::NgIrcd.connect_batch(),
        loadavg()
    )
}

fn label(w: &Workload) -> String {
    format!(
        "{} clients / {} channels at {} deliveries/s",
        thousands(w.clients as f64),
        thousands(w.channels as f64),
        thousands(w.deliveries as f64)
    )
}

pub fn run_line(round: usize, kind: IrcKind, step: &Step, run: &Run, took: Duration) -> String {
    let r = &run.result;
    format!(
        "round {} {:<8} {:>6} {}: {} of {} delivered ({:.0}/s), lost {}, dup/reorder {}, \
         errors {}, p50 {:.2} ms, p99 {:.2} ms, server {} us/delivery ({:.2} s user + {:.2} s \
         kernel), loadgen {:.2} s CPU, peak RSS {} KiB ({:.0} s)",
        round + 1,
        kind.name(),
        if step.ladder { "ladder" } else { "fixed" },
        label(&step.work),
        r.delivered,
        r.expected,
        r.deliveries_per_s,
        r.lost,
        r.misordered(),
        r.error_total,
        r.latency.p50_us / 1e3,
        r.latency.p99_us / 1e3,
        fixed(r.server_us_per_delivery(), 2),
        r.server_cpu_s().0,
        r.server_cpu_s().1,
        r.cpu.loadgen_cpu_s,
        run.peak_rss_kib,
        took.as_secs_f64()
    )
}

fn med(runs: &[Run], f: impl Fn(&Run) -> Option<f64>) -> Option<f64> {
    median(&runs.iter().filter_map(f).collect::<Vec<_>>())
}

/// The best of `values` over the servers that are not uringo: the lowest, or with
/// `higher_is_better` the highest.
fn best_peer(servers: &[IrcKind], values: &[Option<f64>], higher_is_better: bool) -> Option<f64> {
    let peers = servers
        .iter()
        .zip(values)
        .filter(|(k, _)| **k != IrcKind::Uringo)
        .filter_map(|(_, v)| *v);
    if higher_is_better {
        peers.max_by(f64::total_cmp)
    } else {
        peers.min_by(f64::total_cmp)
    }
}

fn uringo_value(servers: &[IrcKind], values: &[Option<f64>]) -> Option<f64> {
    let i = servers.iter().position(|k| *k == IrcKind::Uringo)?;
    values[i]
}

/// One fixed workload's table; returns it with uringo's (p99 ms, CPU ratio to best peer).
fn fixed_table(servers: &[IrcKind], runs: &[Vec<Run>]) -> (Table, Option<f64>, Option<f64>) {
    let p99: Vec<Option<f64>> = runs
        .iter()
        .map(|r| med(r, |x| Some(x.result.latency.p99_us / 1e3)))
        .collect();
    let cpu: Vec<Option<f64>> = runs
        .iter()
        .map(|r| med(r, |x| x.result.server_us_per_delivery()))
        .collect();
    let best_p99 = best_peer(servers, &p99, false);
    let best_cpu = best_peer(servers, &cpu, false);
    let mut t = Table::new([
        "server",
        "delivered/s",
        "p50 ms",
        "p99 ms",
        "p99 vs best peer",
        "p99 ms per round",
        "server CPU µs/delivery",
        "user",
        "kernel",
        "CPU vs best peer",
        "peak RSS MiB",
        "delivered / expected",
        "lost",
        "errors",
    ]);
    for (i, kind) in servers.iter().enumerate() {
        let r = &runs[i];
        let sum = |f: fn(&Run) -> u64| r.iter().map(f).sum::<u64>();
        let per_round: Vec<String> = r
            .iter()
            .map(|x| format!("{:.1}", x.result.latency.p99_us / 1e3))
            .collect();
        t.row([
            kind.name().to_string(),
            thousands(med(r, |x| Some(x.result.deliveries_per_s)).unwrap_or(f64::NAN)),
            fixed(med(r, |x| Some(x.result.latency.p50_us / 1e3)), 2),
            fixed(p99[i], 2),
            ratio(p99[i], best_p99),
            per_round.join(" / "),
            fixed(cpu[i], 2),
            fixed(med(r, |x| x.result.server_split_us().map(|s| s.0)), 2),
            fixed(med(r, |x| x.result.server_split_us().map(|s| s.1)), 2),
            ratio(cpu[i], best_cpu),
            fixed(med(r, |x| Some(x.peak_rss_kib as f64 / 1024.0)), 1),
            format!(
                "{} / {}",
                thousands(sum(|x| x.result.delivered) as f64),
                thousands(sum(|x| x.result.expected) as f64)
            ),
            sum(|x| x.result.lost).to_string(),
            sum(|x| x.result.error_total + x.result.misordered()).to_string(),
        ]);
    }
    let u_cpu = ratio_value(uringo_value(servers, &cpu), best_cpu);
    (t, uringo_value(servers, &p99), u_cpu)
}

fn ratio_value(v: Option<f64>, base: Option<f64>) -> Option<f64> {
    match (v, base) {
        (Some(v), Some(b)) if b > 0.0 => Some(v / b),
        _ => None,
    }
}

/// A round's capacity: the highest step kept up with (0 if none).
fn capacity(c: &Climb) -> f64 {
    c.kept_up.as_ref().map_or(0.0, |(d, _)| *d as f64)
}

/// The median capacity; "≥" when some round kept up with the top step (the capacity may be
/// higher), "<" the first step when the median round missed even that.
fn capacity_cell(cap: Option<f64>, climbs: &[Climb], first_step: f64) -> String {
    match cap {
        Some(cap) if climbs.iter().any(|x| x.missed.is_none()) => format!("≥ {}", thousands(cap)),
        Some(0.0) => format!("< {}", thousands(first_step)),
        cap => cap.map_or("-".into(), thousands),
    }
}

fn ladder_table(cli: &Cli, climbs: &[Vec<Climb>]) -> (Table, Vec<Option<f64>>) {
    let caps: Vec<Option<f64>> = climbs
        .iter()
        .map(|c| median(&c.iter().map(capacity).collect::<Vec<_>>()))
        .collect();
    let insp = cli.servers.iter().position(|k| *k == IrcKind::InspIrcd);
    let best = best_peer(&cli.servers, &caps, true);
    let mut t = Table::new([
        "server",
        "capacity deliveries/s",
        "per round",
        "first step missed (why), per round",
        "server CPU µs/delivery at capacity",
        "loadgen CPU at capacity",
        "vs InspIRCd",
        "vs best peer",
    ]);
    let window = cli.ladder_duration;
    let first_step = cli.ladder.first().copied().unwrap_or(0) as f64;
    for (i, kind) in cli.servers.iter().enumerate() {
        let c = &climbs[i];
        let at_cap: Vec<Run> = c
            .iter()
            .filter_map(|x| x.kept_up.as_ref().map(|k| k.1.clone()))
            .collect();
        let per_round: Vec<String> = c.iter().map(|x| thousands(capacity(x))).collect();
        let missed: Vec<String> = c
            .iter()
            .map(|x| match &x.missed {
                Some((d, why)) => format!("{} ({why})", thousands(*d as f64)),
                None => "none".into(),
            })
            .collect();
        t.row([
            kind.name().to_string(),
            capacity_cell(caps[i], c, first_step),
            per_round.join(" / "),
            missed.join("; "),
            fixed(med(&at_cap, |x| x.result.server_us_per_delivery()), 2),
            percent(med(&at_cap, |x| Some(x.result.cpu.loadgen_cpu_s / window))),
            ratio(caps[i], insp.and_then(|j| caps[j])),
            ratio(caps[i], best),
        ]);
    }
    (t, caps)
}

fn percent(share: Option<f64>) -> String {
    share.map_or("-".into(), |s| format!("{:.0}%", s * 100.0))
}

fn goal(met: Option<bool>) -> &'static str {
    match met {
        Some(true) => "met",
        Some(false) => "missed",
        None => "not measured",
    }
}

pub fn tables(cli: &Cli, m: &Measured) -> String {
    let mut out = String::new();
    let mut goals = Vec::new();
    for (w, work) in cli.fixed.iter().enumerate() {
        let (t, p99, cpu) = fixed_table(&cli.servers, &m.fixed[w]);
        out += &format!(
            "\n{} (medians of {} rounds)\n\n{}",
            label(work),
            cli.rounds,
            t.render()
        );
        if work.clients >= 5000 {
            goals.push(format!(
                "- p99 at {} clients ≤ 3 ms: uringo {} ms, {}",
                thousands(work.clients as f64),
                fixed(p99, 2),
                goal(p99.map(|p| p <= 3.0))
            ));
        }
        goals.push(format!(
            "- CPU per delivery ≤ 0.8× the best peer at {} clients: {}×, {}",
            thousands(work.clients as f64),
            fixed(cpu, 2),
            goal(cpu.map(|c| c <= 0.8))
        ));
    }
    if !cli.ladder.is_empty() {
        let (t, caps) = ladder_table(cli, &m.ladder);
        let (clients, channels) = cli.ladder_shape;
        out +=
            &format!(
            "\nRate ladder, {} clients / {} channels, steps {} deliveries/s of {} s each; a step \
             is kept up with if nothing is lost, no error is counted and p99 ≤ {} ms, in one of \
             two tries (medians \
             of {} rounds; loadgen's CPU is its CPU time over the sending time, and near 100% \
             loadgen rather than the server may be what fell behind)\n\n{}",
            thousands(clients as f64),
            thousands(channels as f64),
            cli.ladder.iter().map(|d| thousands(*d as f64)).collect::<Vec<_>>().join(", "),
            cli.ladder_duration,
            cli.ladder_p99_ms,
            cli.rounds,
            t.render()
        );
        let insp = cli.servers.iter().position(|k| *k == IrcKind::InspIrcd);
        let vs = ratio_value(
            uringo_value(&cli.servers, &caps),
            insp.and_then(|i| caps[i]),
        );
        goals.push(format!(
            "- capacity ≥ 2× InspIRCd's on one CPU: {}×, {}",
            fixed(vs, 2),
            goal(vs.map(|v| v >= 2.0))
        ));
    }
    out + "\nGoals (issue 13):\n\n" + &goals.join("\n") + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use uringo_benches::irc::chat_load::ChatResult;
    use uringo_loadgen::chat::summary::{ChatCpu, ChatSummary};
    use uringo_loadgen::latency::Percentiles;

    fn run(p99_ms: f64, cpu_s: f64) -> Run {
        Run {
            result: ChatResult {
                summary: ChatSummary {
                    expected: 100_000,
                    delivered: 100_000,
                    deliveries_per_s: 20_000.0,
                    latency: Percentiles {
                        p50_us: 500.0,
                        p99_us: p99_ms * 1e3,
                        ..Percentiles::default()
                    },
                    cpu: ChatCpu {
                        loadgen_cpu_s: 1.5,
                        server_user_s: Some(cpu_s / 2.0),
                        server_system_s: Some(cpu_s / 2.0),
                        ..ChatCpu::default()
                    },
                    ..ChatSummary::default()
                },
                window_cpu: Vec::new(),
            },
            peak_rss_kib: 10_240,
        }
    }

    fn climb(kept_up: Option<u64>, missed: Option<u64>) -> Climb {
        Climb {
            kept_up: kept_up.map(|d| (d, run(50.0, 2.0))),
            missed: missed.map(|d| (d, "p99 150 ms".to_string())),
        }
    }

    #[test]
    fn ratios_are_against_the_best_peer_and_goals_follow() {
        // uringo, inspircd, ngircd; one 5,000-client workload; a ladder of 100k..300k.
        let cli = Cli::parse_from([
            "chat-compare",
            "--fixed",
            "5000/100/24500",
            "--ladder",
            "100000,200000,300000",
        ]);
        let m = Measured {
            // CPU 0.6 s vs the best peer's 1.0 s (ngIRCd 2.0 s is not the best): 0.60x.
            fixed: vec![vec![
                vec![run(2.0, 0.6)],
                vec![run(5.0, 1.0)],
                vec![run(9.0, 2.0)],
            ]],
            ladder: vec![
                vec![climb(Some(300_000), None)],
                vec![climb(Some(100_000), Some(200_000))],
                vec![climb(None, Some(100_000))],
            ],
        };
        let out = tables(&cli, &m);
        assert!(out.contains("uringo 2.00 ms, met"), "{out}");
        assert!(out.contains("5,000 clients: 0.60×, met"), "{out}");
        assert!(
            out.contains("capacity ≥ 2× InspIRCd's on one CPU: 3.00×, met"),
            "{out}"
        );
        assert!(out.contains("| ≥ 300,000"), "{out}");
        assert!(out.contains("| < 100,000"), "{out}");
        assert!(out.contains("200,000 (p99 150 ms)"), "{out}");
    }
}
