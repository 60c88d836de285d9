#!/bin/bash
# Where the fd lookups go: the echo server at 60,000 msg/s (64 B, 128 connections) under
# perf, with and without its fixed-file table; prints the share of the server's cpu-clock
# samples in the kernel's per-op file lookup (fget/fdget/fput and io_uring's io_file_get_*).
# usage: directfd-profile.sh SERVER_BIN [LOADGEN]   (run from the repository root)
# Server pinned to CPU 1, loadgen (URINGO_FIXED_FILES=0) to CPU 0, both SCHED_FIFO 20.
set -u
. "$(dirname "$0")/directfd-start.sh"
SRV=$1; LG=${2:-target/release/uringo-loadgen}
TMP=$(mktemp -d)
PORT=7700
for fixed in 0 default 0 default; do
  PORT=$((PORT + 1))
  start_server "$SRV" $PORT $fixed "$TMP/server.log"
  URINGO_FIXED_FILES=0 chrt -f 20 taskset -c 0 "$LG" echo --addr 127.0.0.1:$PORT --conns 128 --size 64 \
    --rate 60000 --duration 8s --warmup 1s --cores 1 --server-pid $spid > "$TMP/lg.txt" 2>&1 &
  lpid=$!
  sleep 2.5
  perf record -F 10000 -e cpu-clock -p $spid -o "$TMP/perf.data" -- sleep 5 > /dev/null 2>&1
  wait $lpid
  kill -INT $spid; wait $spid
  perf report -i "$TMP/perf.data" --no-children --sort sym 2>/dev/null | grep -v '^#' | grep -v '^$' > "$TMP/syms.txt"
  echo "== URINGO_FIXED_FILES=$fixed: $(grep -o 'server cpu.*' "$TMP/lg.txt"), load $(cut -d' ' -f1 /proc/loadavg)"
  grep -E '\] (__)?(fget|fdget|fput|io_file_get)[a-z_]*$' "$TMP/syms.txt" | head -8
  python3 - "$TMP/syms.txt" <<'PY'
import re, sys
total = 0.0
for l in open(sys.argv[1]):
    m = re.match(r'\s*([\d.]+)%\s+\[k\]\s+(\S+)', l)
    if m and re.match(r'(__)?(fget|fdget|fput|io_file_get)', m.group(2)):
        total += float(m.group(1))
print(f"   fd lookup share of server samples: {total:.2f} %")
PY
done
rm -rf "$TMP"
