#!/usr/bin/env bash
# Builds uringo-server, uringo-loadgen and the peer echo servers in release, then runs one
# of the side-by-side benchmarks (see benches/README.md):
#
#   benches/compare.sh saturate [OPTIONS]   closed loop: msgs/s, p99, CPU/msg per size x conns
#   benches/compare.sh rate [OPTIONS]       open loop at a fixed rate: CPU/msg and p99
#   benches/compare.sh idle [OPTIONS]       server RSS per idle connection
#
# OPTIONS go to the program (`--help` lists them), e.g. a quick run:
#   benches/compare.sh saturate --rounds 3 --duration 3 --warmup 1
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-saturate}
shift || true
case $mode in
  saturate | rate) prog=compare ;;
  idle) prog=idle-mem ;;
  *)
    echo "usage: $0 saturate|rate|idle [OPTIONS]" >&2
    exit 2
    ;;
esac

cargo build --release -p uringo-server -p uringo-loadgen
cargo build --release -p uringo-benches --features peers --bins
target=${CARGO_TARGET_DIR:-target}/release
if [ "$prog" = compare ]; then
  exec "$target/compare" "$mode" "$@"
fi
exec "$target/idle-mem" "$@"
