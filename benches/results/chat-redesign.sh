#!/bin/sh
# Chat load before and after the issue-11 redesign, interleaved on one
# machine, server pinned to CPU 1 and loadgen to CPU 0 (other work on the
# machine shares both). BASE is uringo-server built at main 4e78f05 (old chat code,
# same runtime), NEW at the chat branch; one loadgen drives both. Each
# output ends with the server's CPU time for the run.
#   sh chat-redesign.sh BASE_BIN NEW_BIN LOADGEN_BIN OUTDIR NAME LOADGEN_ARGS...
# chat-{base,new}-N.txt: NAME=big, --clients 10000 --channels 100 --joins 1 --rate 505
# chat-small-{base,new}-N.txt: NAME=small, --clients 1000 --channels 50 --joins 1 --rate 2000
set -eu
base=$1 new=$2 loadgen=$3 out=$4 name=$5
shift 5
port=16700
for i in 1 2 3 4 5; do
    # Alternate which goes first, so a slow phase of the machine hits both.
    order="new base"; [ $((i % 2)) -eq 0 ] && order="base new"
    for v in $order; do
        bin=$new; [ "$v" = base ] && bin=$base
        port=$((port + 1))
        taskset -c 1 "$bin" chat --listen 127.0.0.1:$port --cores 2 --flood-rate 0 >/dev/null 2>&1 &
        pid=$!
        sleep 1
        taskset -c 0 "$loadgen" chat --addr 127.0.0.1:$port "$@" --duration 10s --cores 2 \
            > "$out/chat-$name-$v-$i.txt" 2>&1 || true
        # Server CPU for the whole run (registration included), in clock ticks.
        ticks=$(awk '{print $14 + $15}' /proc/$pid/stat)
        echo "server cpu ticks (utime+stime, $(getconf CLK_TCK)/s): $ticks" >> "$out/chat-$name-$v-$i.txt"
        kill -TERM $pid
        wait $pid || true
    done
done
