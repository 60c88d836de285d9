#!/bin/sh
# loadgen chat A/B: binaries interleaved (order alternating per round) against a fresh
# `uringo-server chat --cores 1 --flood-rate 0` pinned to CPU 1, loadgen pinned to CPU 0
# (both SCHED_FIFO 1), 1,000 clients in 10 channels (fanout 99), --rate R messages/s, or
# closed loop with RATE=kN (--in-flight N). Each line: the summary and the last second's
# progress line (the rate actually delivered then).
#   sh lgchat2-ab.sh SERVER_BIN ROUNDS RATE NAME=LOADGEN_BIN...
set -eu
server=$1 rounds=$2 rate=$3
shift 3
load="--rate $rate"
case $rate in k*) load="--in-flight ${rate#k}" ;; esac
port=17100
for i in $(seq 1 "$rounds"); do
    list="$*"
    [ $((i % 2)) -eq 0 ] && list=$(echo "$list" | tr ' ' '\n' | tac | tr '\n' ' ')
    for nb in $list; do
        name=${nb%%=*} bin=${nb#*=}
        port=$((port + 1))
        chrt -f 1 taskset -c 1 "$server" chat --listen 127.0.0.1:$port --cores 1 --flood-rate 0 >/dev/null 2>&1 &
        pid=$!
        sleep 0.5
        out=$(chrt -f 1 taskset -c 0 "$bin" chat --addr 127.0.0.1:$port --clients 1000 --channels 10 \
            $load --duration 3s --cores 1 --server-pid $pid 2>&1 |
            grep -E '^(  deliveries|  lost/dup|  delivery latency|  loadgen cpu|  server cpu|\[   3s\])' |
            sed 's/^  *//; s/   */ /g' | tr '\n' '|')
        echo "$name round $i rate $rate: $out load $(cut -d' ' -f1 /proc/loadavg)"
        kill -TERM $pid; wait $pid || true
    done
done
