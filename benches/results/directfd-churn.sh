#!/bin/bash
# Connection churn with and without the fixed-file table: the cost a registered descriptor adds
# per connection (one IORING_REGISTER_FILES_UPDATE at accept, one fixed-slot close).
# usage: directfd-churn.sh SERVER_BIN ROUNDS CONNS   (run from the repository root)
# Server (echo --cores 1) pinned to CPU 1 at SCHED_FIFO 20; a Python client pinned to CPU 0 opens
# CONNS connections one after another, echoes 64 B on each and closes it. Prints the server's
# CPU (utime+stime from /proc/PID/stat, ticks) per connection.
set -u
. "$(dirname "$0")/directfd-start.sh"
SRV=$1; ROUNDS=$2; CONNS=$3
TMP=$(mktemp -d)
PORT=7800
for round in $(seq 1 "$ROUNDS"); do
  for fixed in 0 default; do
    PORT=$((PORT + 1))
    start_server "$SRV" $PORT $fixed "$TMP/server.log"
    read -r u0 s0 < <(awk '{print $14, $15}' /proc/$spid/stat)
    chrt -f 20 taskset -c 0 python3 - "$PORT" "$CONNS" <<'PY'
import socket, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
msg = b'x' * 64
for _ in range(n):
    s = socket.create_connection(('127.0.0.1', port))
    s.sendall(msg)
    got = b''
    while len(got) < 64:
        got += s.recv(64)
    assert got == msg
    s.close()
PY
    read -r u1 s1 < <(awk '{print $14, $15}' /proc/$spid/stat)
    kill -INT $spid; wait $spid
    ticks=$(( (u1 - u0) + (s1 - s0) ))
    hz=$(getconf CLK_TCK)
    echo "round $round URINGO_FIXED_FILES=$fixed: $CONNS conns, server cpu $ticks ticks = $(python3 -c "print(f'{$ticks / $hz / $CONNS * 1e6:.1f}')") us/conn, load $(cut -d' ' -f1 /proc/loadavg)"
  done
done
rm -rf "$TMP"
