#!/usr/bin/env bash
# Re-measures every figure in the README's "Performance" section, one benchmark at a time, each
# with the command its section names, and writes each raw output to OUTDIR (default
# benches/results/run-<commit>). About 36 minutes on the 2-CPU machine; run it with nothing else
# going on, then copy the files you use into benches/results/ under the names the README links.
#
#   benches/readme-figures.sh [OUTDIR]
#   STEPS="rate yardstick" benches/readme-figures.sh /tmp/out   # a subset
#
# Steps, in the order they run: micro chan taskmem idlemem chatmem cluster rate saturate
# yardstick chat. Each output starts with the command, the commit and the load average.
set -euo pipefail
cd "$(dirname "$0")/.."

commit=$(git rev-parse --short HEAD)
out=${1:-benches/results/run-$commit}
steps=${STEPS:-micro chan taskmem idlemem chatmem cluster rate saturate yardstick chat}
target=${CARGO_TARGET_DIR:-target}/release
mkdir -p "$out"

cargo build --release -p uringo-server -p uringo-loadgen
cargo build --release -p uringo-benches --features peers --bins

# run NAME COMMAND...: the command's stdout and stderr into OUTDIR/NAME.txt, under a header.
run() {
  local name=$1
  shift
  local file="$out/$name.txt"
  {
    echo "# $*"
    echo "# commit $commit, $(date -u '+%Y-%m-%d %H:%M:%S UTC'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
  } >"$file"
  echo "== $name: $* ($(date -u +%H:%M:%S))"
  "$@" >>"$file" 2>&1
  echo "# ended $(date -u +%H:%M:%S), load average $(cut -d' ' -f1-3 /proc/loadavg)" >>"$file"
}

# The yardstick runs under SCHED_FIFO where the machine allows it (root): fewer preemptions of
# the two clients it compares.
fifo=()
if chrt -f 50 true 2>/dev/null; then
  fifo=(chrt -f 50)
fi

for step in $steps; do
  case $step in
    micro) run runtime-micro cargo bench -p uringo-benches --bench runtime -- --quick --rounds 3 ;;
    chan) run chan cargo bench -p uringo-benches --bench chan ;;
    taskmem) run task-mem cargo bench -p uringo-benches --bench task_mem ;;
    idlemem) run echo-idle-mem "$target/idle-mem" --servers uringo,tokio --conns 10000 ;;
    chatmem) run chat-mem "$target/chat-mem" --clients 5000 --rounds 3 ;;
    cluster) run cluster "$target/cluster-bench" ;;
    rate) run compare-rate "$target/compare" rate --rounds 3 --duration 3 --warmup 1 --split perf ;;
    saturate) run compare-saturate "$target/compare" saturate --rounds 3 --duration 3 --warmup 1 ;;
    yardstick) run yardstick "${fifo[@]}" "$target/yardstick" --rounds 3 --duration 3 --warmup 1 ;;
    chat) run chat-compare "$target/chat-compare" --realtime --rounds 5 ;;
    *)
      echo "unknown step: $step (micro chan taskmem idlemem chatmem cluster rate saturate yardstick chat)" >&2
      exit 2
      ;;
  esac
done
echo "== all done ($(date -u +%H:%M:%S)); outputs in $out"
