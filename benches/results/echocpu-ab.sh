#!/bin/bash
# One fixed-rate run of an echo server under perf (the side-by-side runs of echocpu-ab.txt).
# usage: echocpu-ab.sh SERVER_BIN OUTPREFIX [rate] [port]   (LOADGEN=path to uringo-loadgen)
# server pinned to CPU 1, loadgen to CPU 0, both SCHED_FIFO 20 (the machine is shared);
# prints server CPU per message and its user/kernel split from perf's samples.
SRV=$1; OUT=$2; RATE=${3:-60000}; PORT=${4:-7400}
LG=${LOADGEN:-target/release/uringo-loadgen}
chrt -f 20 taskset -c 1 $SRV echo --listen 127.0.0.1:$PORT --cores 1 > $OUT.server.log 2>&1 &
SPID=$!
sleep 0.5
chrt -f 20 taskset -c 0 $LG echo --addr 127.0.0.1:$PORT --conns 128 --size 64 --rate $RATE --duration 8s --warmup 1s --cores 1 --server-pid $SPID > $OUT.loadgen.txt 2>&1 &
LPID=$!
sleep 2.5
perf record -F 10000 -e cpu-clock -g -p $SPID -o $OUT.perf.data -- sleep 5 > /dev/null 2>&1
wait $LPID
kill -INT $SPID; wait $SPID
perf report -i $OUT.perf.data --no-children --sort dso -g none 2>/dev/null | grep -v '^#' | grep -v '^$' > $OUT.dso.txt
python3 - "$OUT" <<'PY'
import sys,re
out=sys.argv[1]
lg=open(out+'.loadgen.txt').read()
cpu=float(re.search(r'server cpu\s+[\d.]+ s, ([\d.]+) us/msg',lg).group(1))
p99=re.search(r'latency \(corr.\).*p99 (\S+)',lg).group(1)
user=0.0
for l in open(out+'.dso.txt'):
    m=re.match(r'\s*([\d.]+)%\s+(\S+)',l)
    if m and not m.group(2).startswith('[kernel'): user+=float(m.group(1))
print(f"{out}: server cpu {cpu:.2f} us/msg, user samples {user:.1f}% -> user {cpu*user/100:.3f} us/msg, kernel {cpu*(100-user)/100:.2f}; p99 {p99}; load {open('/proc/loadavg').read().split()[0]}")
PY
