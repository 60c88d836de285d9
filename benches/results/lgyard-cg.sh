#!/bin/sh
# (lgyard) /tmp/lgyard/base holds release uringo-server and echo-raw-client (and base loadgens), copied from target/release; outputs go to /tmp/lgyard.
# usage: cg.sh BIN TAG [size] [conns]: callgrind of loadgen echo at two durations against a uringo-server on
# 127.0.0.1:7101 (CPU 1); user-space Ir per message from the difference (startup and teardown cancel out)
BIN=$1; TAG=$2; SIZE=${3:-1024}; CONNS=${4:-16}
run() {
  taskset -c 0 valgrind --tool=callgrind --callgrind-out-file=/tmp/lgyard/cg.$TAG.$1.out $BIN echo --addr 127.0.0.1:7101 --conns $CONNS --size $SIZE --cores 1 --duration $1 --warmup 0.5 --json /tmp/lgyard/cg.$TAG.$1.json > /tmp/lgyard/cg.$TAG.$1.log 2>&1
  M=$(python3 -c "import json;j=json.load(open('/tmp/lgyard/cg.$TAG.$1.json'));print(j['messages'], j['error_total'])")
  I=$(callgrind_annotate /tmp/lgyard/cg.$TAG.$1.out 2>/dev/null | grep "PROGRAM TOTALS" | awk '{print $1}' | tr -d ,)
  echo "$M $I"
}
A=$(run 2); B=$(run 5)
python3 -c "
a=list(map(int,'$A'.split())); b=list(map(int,'$B'.split()))
print('$TAG size $SIZE conns $CONNS: msgs %d/%d errors %d/%d Ir %d/%d  Ir/msg %.0f' % (a[0],b[0],a[1],b[1],a[2],b[2],(b[2]-a[2])/(b[0]-a[0])))"
