#!/bin/bash
# The callgrind runs behind benches/results/drvpath-loadgen-*.txt.
# usage: drvpath-cg.sh BIN_DIR LABEL DURATION_S   (BIN_DIR holds release uringo-server and
# uringo-loadgen built with CARGO_PROFILE_RELEASE_DEBUG=line-tables-only)
set -e
BIN=$1; LABEL=$2; DUR=${3:-4}
PORT=$((20000 + RANDOM % 20000))
taskset -c 0 "$BIN/uringo-server" echo --cores 1 --listen 127.0.0.1:$PORT >/dev/null 2>&1 &
SPID=$!
sleep 0.5
OUT=/tmp/cg.$LABEL.$DUR
taskset -c 1 valgrind --tool=callgrind --callgrind-out-file=$OUT.out "$BIN/uringo-loadgen" echo \
    --conns 128 --size 1024 --cores 1 --duration "${DUR}s" --warmup 1s --addr 127.0.0.1:$PORT >$OUT.log 2>&1 || true
kill $SPID; wait $SPID 2>/dev/null || true
grep -E 'messages|throughput' $OUT.log
# messages = Send ops (the loadgen sends one per message); per-function Ir is inclusive / messages
callgrind_annotate --inclusive=yes $OUT.out | grep -E "Driver::reap |Driver::poll_op |Op<T>::submit |Future>::poll |drop_in_place<uringo::driver::uring::slot::Slot>"
