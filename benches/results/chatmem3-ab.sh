#!/bin/bash
# Interleaved A/B of uringo-server chat: 1,000 clients / 50 channels at 2,000 PRIVMSG/s
# (38,000 deliveries/s), server pinned on CPU 1, loadgen on CPU 0, one round = old then new.
# usage: ab.sh OLD_DIR NEW_DIR ROUNDS  (each dir holds uringo-server; loadgen from OLD_DIR)
set -u
old=$1 new=$2 rounds=${3:-5}
port=17600
for r in $(seq 1 "$rounds"); do
  for side in old new; do
    dir=${!side}
    port=$((port + 1))
    taskset -c 1 "$dir/uringo-server" chat --listen 127.0.0.1:$port --cores 1 --flood-rate 0 >/dev/null 2>&1 &
    pid=$!
    for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
    line=$(taskset -c 0 "$old/uringo-loadgen" chat --addr 127.0.0.1:$port --clients 1000 --channels 50 \
      --rate 2000 --duration 10s --cores 1 --server-pid $pid 2>&1 | grep -E "deliveries |delivery latency|server cpu" | tr '\n' ' ')
    echo "round $r $side $(date -u +%H:%M:%S) load $(cut -d' ' -f1 /proc/loadavg): $line"
    kill $pid; wait $pid 2>/dev/null
  done
done
