#!/bin/bash
# User-space instructions per echoed message of uringo-server echo under callgrind, at a fixed
# rate: instrumentation is on from just before the loadgen starts (no warmup, so its message
# count is every message echoed) until it ends; Ir/msg = Ir / loadgen's messages (connection
# setup of the 128 connections included, the same for every binary). Under valgrind the server
# lags at times and then takes several messages of a connection in one receive, so Ir per
# receive (the server's own count, its stats line's recvs= / msgs= total after the run) is
# printed too: it does not depend on how the messages happened to batch.
# usage: echocpu-cg.sh SERVER_BIN LABEL [rate]   (LOADGEN=path to uringo-loadgen)
# server (under valgrind) pinned to CPU 1, loadgen to CPU 0; 64 B, 128 connections, one core each.
SRV=$1; LABEL=$2; RATE=${3:-10000}
LG=${LOADGEN:-target/release/uringo-loadgen}
PORT=$((20000 + RANDOM % 20000))
OUT=/tmp/echocpu/cg.$LABEL.$$
taskset -c 1 valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=$OUT.out \
    "$SRV" echo --listen 127.0.0.1:$PORT --cores 1 --stats-interval 1 >$OUT.log 2>&1 &
SPID=$!
for _ in $(seq 100); do grep -q listening $OUT.log 2>/dev/null && break; sleep 0.1; done
callgrind_control -i on $SPID >/dev/null 2>&1
taskset -c 0 "$LG" echo --addr 127.0.0.1:$PORT --conns 128 --size 64 --rate "$RATE" --duration 5s \
    --warmup 0s --cores 1 >$OUT.lg 2>&1
callgrind_control -i off $SPID >/dev/null 2>&1
sleep 2.5  # a stats line with the final receive total
# (SIGINT does not reach the server's signal handling under valgrind: dump, then kill)
callgrind_control -d $SPID >/dev/null 2>&1
kill -9 $SPID; wait $SPID 2>/dev/null
PROF=$(ls $OUT.out.* | tail -1)
IR=$(callgrind_annotate $PROF 2>/dev/null | grep -m1 'PROGRAM TOTALS' | awk '{gsub(",","",$1); print $1}')
MSGS=$(awk '/^  messages/ {print $2}' $OUT.lg)
RECVS=$(grep ' stats ' $OUT.log | tail -1 | grep -oE ' (recvs|msgs)=[0-9]+' | cut -d= -f2)
python3 -c "import sys; ir,n,r=map(float,sys.argv[1:]); print(f'$LABEL rate $RATE: {ir:.0f} Ir / {n:.0f} msgs = {ir/n:.0f} Ir/msg; / {r:.0f} recvs = {ir/r:.0f} Ir/recv')" $IR $MSGS $RECVS
grep -E 'throughput|errors' $OUT.lg | sed 's/^/    /'
echo "    profile: $PROF"
