#!/bin/bash
# Registered (fixed) descriptors side by side: the echo server with and without its fixed-file
# table, interleaved rounds, server pinned to CPU 1 and loadgen to CPU 0 (both SCHED_FIFO 20,
# the machine is shared).
#
# usage: directfd-ab.sh rate|closed ROUNDS VARIANT...   (run from the repository root)
#   VARIANT is NAME=SERVER_BIN[:FIXED_FILES], e.g. base=/tmp/base/uringo-server
#   on=target/release/uringo-server off=target/release/uringo-server:0
#   (FIXED_FILES is passed as URINGO_FIXED_FILES; unset: the binary's default).
#   rate:   64 B, 128 connections, open loop at 60,000 msg/s, 8 s after 1 s warmup
#   closed: 1 KiB, 128 connections, closed loop, 8 s after 1 s warmup
# The loadgen is target/release/uringo-loadgen with URINGO_FIXED_FILES=0, the same for every
# variant. Prints one line per run and the medians per variant. 'server cpu' is the loadgen's
# --server-pid figure (utime+stime from /proc/PID/stat over the measured 8 s); its user/kernel
# split is the utime:stime ratio over the whole run (tick-sampled, so only roughly).
set -u
MODE=$1; ROUNDS=$2; shift 2
LG=${LOADGEN:-target/release/uringo-loadgen}
case $MODE in
  rate) LOAD=(--conns 128 --size 64 --rate 60000) ;;
  closed) LOAD=(--conns 128 --size 1024) ;;
  *) echo "mode: rate|closed" >&2; exit 2 ;;
esac
TMP=$(mktemp -d)
PORT=7600
for round in $(seq 1 "$ROUNDS"); do
  for variant in "$@"; do
    name=${variant%%=*}; spec=${variant#*=}; bin=${spec%%:*}
    fixed=""; [[ $spec == *:* ]] && fixed=${spec#*:}
    PORT=$((PORT + 1))
    if [ -n "$fixed" ]; then
      URINGO_FIXED_FILES=$fixed chrt -f 20 taskset -c 1 "$bin" echo --listen 127.0.0.1:$PORT --cores 1 > "$TMP/server.log" 2>&1 &
    else
      env -u URINGO_FIXED_FILES chrt -f 20 taskset -c 1 "$bin" echo --listen 127.0.0.1:$PORT --cores 1 > "$TMP/server.log" 2>&1 &
    fi
    spid=$!
    for _ in $(seq 50); do grep -q listening "$TMP/server.log" && break; sleep 0.1; done
    read -r u0 s0 < <(awk '{print $14, $15}' /proc/$spid/stat)
    URINGO_FIXED_FILES=0 chrt -f 20 taskset -c 0 "$LG" echo --addr 127.0.0.1:$PORT "${LOAD[@]}" \
      --duration 8s --warmup 1s --cores 1 --server-pid $spid > "$TMP/lg.txt" 2>&1
    read -r u1 s1 < <(awk '{print $14, $15}' /proc/$spid/stat)
    kill -INT $spid; wait $spid
    python3 - "$name" "$round" "$TMP/lg.txt" $((u1 - u0)) $((s1 - s0)) <<'PY'
import re, sys
name, rnd, path, du, ds = sys.argv[1:]
t = open(path).read()
def grab(pat, default='nan'):
    m = re.search(pat, t)
    return m.group(1) if m else default
rate = grab(r'throughput\s+([\d,.]+)')
cpu = grab(r'server cpu\s+[\d.]+ s, ([\d.]+) us/msg')
# The split of the loadgen's exact total by /proc's tick-sampled utime:stime over the run.
du, ds = int(du), int(ds)
share = du / (du + ds) if du + ds else float('nan')
user, kern = (f"{float(cpu) * share:.3f}", f"{float(cpu) * (1 - share):.3f}") if cpu != 'nan' else ('nan', 'nan')
p99 = grab(r'p99 (\S+)')
errs = grab(r'(?m)^\s+errors\s+(.+)$', '?')
load = open('/proc/loadavg').read().split()[0]
print(f"{name:5} round {rnd}: msgs/s {rate}, server cpu {cpu} us/msg (user {user}, kernel {kern}), p99 {p99}, errors {errs}, load {load}", flush=True)
PY
  done
done | tee "$TMP/runs.txt"
python3 - "$TMP/runs.txt" <<'PY'
import re, statistics, sys
rows = {}
for l in open(sys.argv[1]):
    m = re.match(r'(\S+)\s+round \d+: msgs/s ([\d,.]+|nan), server cpu ([\d.]+|nan) us/msg \(user ([\d.]+|nan), kernel ([\d.]+|nan)\)', l)
    if m:
        rows.setdefault(m.group(1), []).append([float(x.replace(',', '')) for x in m.groups()[1:]])
for name, rs in rows.items():
    med = [statistics.median(c) for c in zip(*rs)]
    print(f"{name:5} median of {len(rs)}: msgs/s {med[0]:,.0f}, server cpu {med[1]:.3f} us/msg (user {med[2]:.3f}, kernel {med[3]:.3f})")
PY
rm -rf "$TMP"
