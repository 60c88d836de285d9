#!/usr/bin/env bash
# The same axum app (benches/src/http_app.rs) on uringo (uringo::compat::serve) and on tokio
# (axum::serve), driven by wrk, in interleaved rounds; prints each run and the medians:
# requests/s, p99 latency, server CPU per request (utime+stime from /proc/PID/stat over the
# measured run, divided by the requests wrk completed).
#
#   benches/http.sh one [ROUNDS] [SECONDS]   uringo 1 core vs tokio current_thread, each pinned
#                                            to CPU 1, wrk (1 thread) pinned to CPU 0
#   benches/http.sh two [ROUNDS] [SECONDS]   uringo 2 cores vs tokio multi_thread (2 workers),
#                                            wrk (2 threads) sharing both CPUs
#
# Env: CONNS (default 64), URL_PATH (default /plaintext), PORT (default 18080),
#      NICE (e.g. -15, as root: server and wrk outweigh other work on a busy machine).
# Needs wrk (Debian package `wrk`; installed here when run as root).
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-one}
rounds=${2:-5}
seconds=${3:-10}
conns=${CONNS:-64}
path=${URL_PATH:-/plaintext}
port=${PORT:-18080}

if ! command -v wrk >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    apt-get install -y -q wrk >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q wrk >/dev/null; }
  else
    echo "wrk is missing: sudo apt-get install wrk" >&2
    exit 1
  fi
fi

cargo build --release -q -p uringo-benches --features http --bin axum-uringo --bin axum-tokio
bin=${CARGO_TARGET_DIR:-target}/release
tick=$(getconf CLK_TCK)
prio=()
[ -n "${NICE:-}" ] && prio=(nice -n "$NICE")

case $mode in
  one)
    server_cpus=1 wrk_pin=(taskset -c 0) wrk_threads=1
    uringo_cmd=("$bin/axum-uringo" --cores 1) tokio_cmd=("$bin/axum-tokio" --workers 0) ;;
  two)
    server_cpus=0,1 wrk_pin=() wrk_threads=2
    uringo_cmd=("$bin/axum-uringo" --cores 2) tokio_cmd=("$bin/axum-tokio" --workers 2) ;;
  *) echo "usage: $0 one|two [ROUNDS] [SECONDS]" >&2; exit 2 ;;
esac

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# Runs one server for one measured wrk run; prints "name rps p99_us cpu_us_per_req".
run_one() {
  local name=$1; shift
  "${prio[@]}" taskset -c "$server_cpus" "$@" --listen "127.0.0.1:$port" >/dev/null &
  local pid=$!
  for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$port$path" >/dev/null && break
    sleep 0.05
  done
  "${prio[@]}" "${wrk_pin[@]}" wrk -t"$wrk_threads" -c"$conns" -d2s "http://127.0.0.1:$port$path" >/dev/null
  local before; before=$(cpu_ticks "$pid")
  local out; out=$("${prio[@]}" "${wrk_pin[@]}" wrk -t"$wrk_threads" -c"$conns" -d"${seconds}s" --latency "http://127.0.0.1:$port$path")
  local after; after=$(cpu_ticks "$pid")
  kill -INT "$pid"; wait "$pid" || true
  echo "$out" | sed "s/^/  [$name] /" >&2
  echo "$out" | awk -v name="$name" -v cpu=$((after - before)) -v tick="$tick" '
    function us(v) { if (v ~ /us$/) return v + 0; if (v ~ /ms$/) return v * 1000; if (v ~ /s$/) return v * 1000000; return v }
    /requests in/ { reqs = $1 }
    /Requests\/sec/ { rps = $2 }
    $1 == "99%" { p99 = us($2) }
    /Non-2xx|Socket errors/ { errors = errors $0 }
    END { printf "%s %.0f %.0f %.2f %s\n", name, rps, p99, cpu * 1000000 / tick / reqs, (errors == "" ? "-" : "errors") }'
}

echo "mode=$mode rounds=$rounds seconds=$seconds conns=$conns path=$path nice=${NICE:-0} $(date -u +%FT%TZ) load=$(cut -d' ' -f1-3 /proc/loadavg)"
results=$(mktemp)
for round in $(seq "$rounds"); do
  if [ $((round % 2)) = 1 ]; then order="uringo tokio"; else order="tokio uringo"; fi
  for name in $order; do
    if [ "$name" = uringo ]; then line=$(run_one uringo "${uringo_cmd[@]}"); else line=$(run_one tokio "${tokio_cmd[@]}"); fi
    echo "round $round: $line"
    echo "$line" >>"$results"
  done
done

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo
echo "| server | requests/s | p99 µs | server CPU µs/request |"
echo "| ------ | ---------- | ------ | --------------------- |"
for name in uringo tokio; do
  rps=$(awk -v n=$name '$1 == n { print $2 }' "$results" | median)
  p99=$(awk -v n=$name '$1 == n { print $3 }' "$results" | median)
  cpu=$(awk -v n=$name '$1 == n { print $4 }' "$results" | median)
  echo "| $name | $rps | $p99 | $cpu |"
done
u=$(awk '$1 == "uringo" { print $2 }' "$results" | median); t=$(awk '$1 == "tokio" { print $2 }' "$results" | median)
uc=$(awk '$1 == "uringo" { print $4 }' "$results" | median); tc=$(awk '$1 == "tokio" { print $4 }' "$results" | median)
awk -v u="$u" -v t="$t" -v uc="$uc" -v tc="$tc" 'BEGIN { printf "uringo/tokio: requests/s %.2fx, CPU/request %.2fx\n", u / t, uc / tc }'
rm -f "$results"
