#!/bin/bash
# Side-by-side server CPU per echoed message, split user/kernel, for two builds of uringo-server.
# usage: opcpu-ab.sh BASE_DIR NEW_DIR RATE SECONDS ROUNDS
# Server on CPU 1, loadgen (from BASE_DIR, the same for both) on CPU 0, 128 conns x 64 B at RATE;
# The server's CPU per message over the loadgen's measured window (`--server-pid`, from
# /proc/PID/stat), split into user and kernel by the share of `perf record -e cpu-clock`
# samples (4 kHz) taken inside that window that fall in the kernel: /proc's 100 Hz
# user/system ticks alone are too coarse for ~0.1 us/msg.
set -euo pipefail
base=$1 new=$2 rate=$3 secs=$4 rounds=$5
run() { # dir label
  local dir=$1 label=$2
  # Port 0: the kernel picks a free port (a fixed one may be another session's).
  rm -f /tmp/opcpu-lg.json
  taskset -c 1 "$dir/uringo-server" echo --listen 127.0.0.1:0 --cores 1 >/tmp/opcpu-srv.out 2>&1 &
  local pid=$!
  until grep -q "listening on" /tmp/opcpu-srv.out; do sleep 0.1; done
  local addr
  addr=$(sed -n 's/^listening on //p' /tmp/opcpu-srv.out | head -1)
  taskset -c 0 "$base/uringo-loadgen" echo --addr "$addr" --cores 1 --conns 128 --size 64 \
    --rate "$rate" --warmup 2s --duration "$((secs + 3))s" --server-pid $pid --json /tmp/opcpu-lg.json >/dev/null 2>&1 &
  local lg=$!
  sleep 2.3
  perf record -q -e cpu-clock -F 4000 -p $pid -o /tmp/opcpu-ab.perf -- sleep "$secs" >/dev/null 2>&1
  local kfrac
  kfrac=$(perf report -i /tmp/opcpu-ab.perf --no-children --sort dso -q 2>/dev/null \
    | awk '/kernel.kallsyms/ {gsub("%","",$1); print $1/100}')
  wait $lg || true
  kill $pid; wait $pid 2>/dev/null || true
  python3 - "$label" "$rate" "$kfrac" <<'PY'
import json, sys
label, rate, kfrac = sys.argv[1], sys.argv[2], float(sys.argv[3])
d = json.load(open('/tmp/opcpu-lg.json'))
cpu = d['cpu']['server_us_per_msg'] or float('nan')
print(f"{label:5} rate {rate:>6} msgs {d['messages']:8} in {d['duration_s']:4.1f}s errors {d['error_total']} "
      f"server {cpu:5.3f} us/msg  kernel share {kfrac:5.3f}  user_us/msg {cpu*(1-kfrac):5.3f} kern_us/msg {cpu*kfrac:5.3f}")
PY
}
for r in $(seq "$rounds"); do
  if (( r % 2 )); then run "$base" base; run "$new" new; else run "$new" new; run "$base" base; fi
done
