#!/bin/bash
# (lgyard) /tmp/lgyard/base holds release uringo-server and echo-raw-client (and base loadgens), copied from target/release; outputs go to /tmp/lgyard.
# usage: ev.sh SIZE CONNS LGBIN : per-process io_uring tracepoint counts over 2 s of steady state, per message
S=$1; C=$2; LG=$3; P=7100; B=/tmp/lgyard/base
EV=io_uring:io_uring_complete,io_uring:io_uring_submit_req,io_uring:io_uring_task_add,io_uring:io_uring_poll_arm,io_uring:io_uring_cqring_wait,io_uring:io_uring_local_work_run,io_uring:io_uring_task_work_run,syscalls:sys_enter_io_uring_enter,context-switches,task-clock,io_uring:io_uring_req_failed
for who in raw lg; do
if [ $who = raw ]; then
taskset -c 0 $B/echo-raw-client --addr 127.0.0.1:$P --size $S --conns $C --duration 4 --warmup 1 > /tmp/lgyard/raw.json & XP=$!
else
taskset -c 0 $LG echo --addr 127.0.0.1:$P --size $S --conns $C --duration 4 --warmup 1 --cores 1 --json /tmp/lgyard/lg.json >/dev/null 2>&1 & XP=$!
fi
sleep 1.5; perf stat -x, -e $EV -o /tmp/lgyard/ev.$who -p $XP -- sleep 2; wait $XP
if [ $who = raw ]; then R=$(python3 -c "import json;print(json.load(open('/tmp/lgyard/raw.json'))['msgs_per_s'])"); else R=$(python3 -c "import json;print(json.load(open('/tmp/lgyard/lg.json'))['msgs_per_s'])"); fi
echo "$who $S x $C msg/s $R  per message:"
grep -v '^#' /tmp/lgyard/ev.$who | grep . | awk -F, -v r=$R '{v=$1; if ($3=="task-clock") {printf "  cpu_us=%.3f", v*1000/(r*2)} else printf "  %s=%.3f", $3, v/(r*2)} END {print ""}' | sed 's/io_uring://g; s/syscalls://g'
done
