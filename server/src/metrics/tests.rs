//! The exposition is checked by Prometheus's own `promtool check metrics`.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

use super::Metrics;

#[path = "../../tests/promtool_support/mod.rs"]
mod promtool_support;
use crate::cluster::ClusterCounters;
use promtool_support::check as promtool;

fn core_stats(core: usize) -> uringo::CoreStats {
    uringo::CoreStats {
        core,
        tasks: 3,
        ops_in_flight: 2,
        sqes: 100 + core as u64,
        cqes: 90,
        enters: 40,
        stalls: 1,
        run_queue: 4,
        parks: 50,
        remote_wakes: 6,
        fixed_files: 0,
        ..Default::default()
    }
}

#[test]
fn chat_metrics_pass_promtool_and_show_what_each_core_counted() {
    let metrics = Metrics::chat(2);
    let (c0, c1) = (metrics.chat_core(0), metrics.chat_core(1));
    for _ in 0..3 {
        c0.line_in();
    }
    c1.client_connected();
    c1.delivered(7);
    c0.numeric(433);
    c1.numeric(433);
    c1.numeric(421);
    c0.numeric(1); // not an error numeric: not counted
    c0.fanout(Duration::from_micros(3));
    c1.fanout(Duration::from_millis(30));
    let cluster = Arc::new(ClusterCounters::default());
    cluster.publishes.fetch_add(5, Relaxed);
    cluster.dropped.fetch_add(2, Relaxed);
    metrics.add_cluster(cluster);

    let text = metrics.render(vec![core_stats(0), core_stats(1)]);
    for line in [
        "uringo_chat_lines_in_total{core=\"0\"} 3",
        "uringo_chat_lines_in_total{core=\"1\"} 0",
        "uringo_chat_clients{core=\"1\"} 1",
        "uringo_chat_deliveries_total{core=\"1\"} 7",
        "uringo_chat_error_numerics_total{code=\"433\"} 2",
        "uringo_chat_error_numerics_total{code=\"421\"} 1",
        "uringo_chat_fanout_seconds_bucket{le=\"5e-06\"} 1",
        "uringo_chat_fanout_seconds_bucket{le=\"0.05\"} 2",
        "uringo_chat_fanout_seconds_count 2",
        "uringo_cluster_publishes_total{core=\"0\"} 5",
        "uringo_cluster_dropped_total{core=\"0\"} 2",
        "uringo_sqes_total{core=\"1\"} 101",
        "uringo_ring_enters_total{core=\"0\"} 40",
        "uringo_tasks{core=\"0\"} 3",
        "uringo_stalls_total{core=\"1\"} 1",
        "uringo_run_queue{core=\"0\"} 4",
        "uringo_parks_total{core=\"1\"} 50",
        "uringo_remote_wakes_total{core=\"0\"} 6",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in\n{text}"
        );
    }
    assert!(!text.contains("code=\"1\""));
    promtool(&text);
}

#[test]
fn echo_metrics_pass_promtool() {
    let cores: super::EchoCores = (0..2)
        .map(|_| Arc::new(crate::echo::CoreCounters::default()))
        .collect();
    cores[1].opened();
    cores[1].echoed(64);
    let text = Metrics::echo(cores).render(vec![core_stats(0), core_stats(1)]);
    for line in [
        "uringo_echo_connections_open{core=\"1\"} 1",
        "uringo_echo_connections_total{core=\"1\"} 1",
        "uringo_echo_bytes_total{core=\"1\"} 64",
        "uringo_echo_messages_total{core=\"0\"} 0",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in\n{text}"
        );
    }
    assert!(!text.contains("chat_"));
    promtool(&text);
}

#[test]
fn a_scrape_asks_every_core_for_its_runtime_counters() {
    let runtime = uringo::Builder::new().cores(2).pin(false).build().unwrap();
    let text = runtime.block_on(async { Metrics::chat(2).scrape().await });
    for core in ["0", "1"] {
        // The task that read a core's counters was live on it: every core answered.
        let tasks = format!("uringo_tasks{{core=\"{core}\"}} ");
        let line = text
            .lines()
            .find(|l| l.starts_with(&tasks))
            .unwrap_or_else(|| panic!("{text}"));
        let n: u64 = line[tasks.len()..].parse().unwrap();
        assert!(n >= 1, "core {core} counted the task asking it: {line}");
    }
    promtool(&text);
}
