#!/bin/bash
# One fixed-rate run of uringo-server echo with URINGO_CPU_SPLIT=1: server user-space CPU per
# echoed message from its own stats lines (user_cpu_us, bytes; exact, CLOCK_THREAD_CPUTIME_ID
# around every io_uring_enter), over the stats lines 3..8 (steady state, after the warmup).
# usage: echocpu-split.sh SERVER_BIN LABEL RATE [port]   (LOADGEN=path to uringo-loadgen)
# server pinned to CPU 1, loadgen to CPU 0; 64 B messages, 128 connections, one core each.
SRV=$1; LABEL=$2; RATE=$3; PORT=${4:-$((20000 + RANDOM % 20000))}
LG=${LOADGEN:-target/release/uringo-loadgen}
LOG=/tmp/echocpu/split.$LABEL.$RATE.$$.log
URINGO_CPU_SPLIT=1 taskset -c 1 "$SRV" echo --listen 127.0.0.1:$PORT --cores 1 --stats-interval 1 >"$LOG" 2>&1 &
SPID=$!
sleep 0.5
taskset -c 0 "$LG" echo --addr 127.0.0.1:$PORT --conns 128 --size 64 --rate "$RATE" --duration 8s \
    --warmup 1s --cores 1 --server-pid $SPID >"$LOG.lg" 2>&1
kill -INT $SPID; wait $SPID
python3 - "$LOG" "$LABEL" "$RATE" <<'PY'
import re, sys
log, label, rate = sys.argv[1:]
rows = []
for line in open(log):
    if ' stats ' not in line:
        continue
    f = dict(re.findall(r'(\w+)=(\S+)', line))
    rows.append((int(f['bytes']), int(f['user_cpu_us']), int(f['enter_cpu_us'])))
a, b = rows[2], rows[7]
msgs = (b[0] - a[0]) / 64
print(f"{label:10} rate {rate}: {msgs:.0f} msgs (bytes/64) over stats lines 3..8, "
      f"user {(b[1]-a[1])/msgs:.3f} us/msg, enter {(b[2]-a[2])/msgs:.3f} us/msg, "
      f"load {open('/proc/loadavg').read().split()[0]}")
PY
rm -f "$LOG" "$LOG.lg"
