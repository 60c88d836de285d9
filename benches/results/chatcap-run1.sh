#!/bin/bash
# run1.sh SERVER_BIN PORT CLIENTS CHANNELS RATE DURATION OUTJSON [PERF_OUT]
# One pinned SCHED_FIFO run: server on CPU 1, main's loadgen on CPU 0.
# With PERF_OUT: perf samples the server (cpu-clock, 4 kHz) for 3 s from
# 0.5 s after loadgen starts sending; prints user/kernel us per delivery
# from the sample counts (each sample 250 us).
set -u
BIN=$1; PORT=$2; CL=$3; CH=$4; RATE=$5; DUR=$6; OUT=$7; PERF=${8:-}
LG=${LOADGEN:-/tmp/chatcap/loadgen-main}
if [ "$BIN" = inspircd ]; then
  sed -e "s|@PORT@|$PORT|g" -e "s|@DIR@|/tmp/chatcap/insp|g" /work/wt/chatcap/benches/irc/inspircd.conf.in > /tmp/chatcap/insp/$PORT.conf
  chrt -f 1 taskset -c 1 inspircd --runasroot --nofork --config=/tmp/chatcap/insp/$PORT.conf >/dev/null 2>&1 &
  SP=$!; sleep 1
else
  chrt -f 1 taskset -c 1 $BIN chat --listen 127.0.0.1:$PORT --cores 1 --flood-rate 0 >/dev/null 2>&1 &
  SP=$!
fi
for i in $(seq 50); do (echo > /dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.1; done
LOG=$OUT.log
chrt -f 1 taskset -c 0 $LG chat --addr 127.0.0.1:$PORT --clients $CL --channels $CH --rate $RATE --duration $DUR --cores 1 --server-pid $SP --json $OUT >$LOG 2>&1 &
LP=$!
if [ -n "$PERF" ]; then
  for i in $(seq 300); do grep -q sending $LOG && break; sleep 0.05; done
  sleep 0.5
  chrt -f 2 perf record -e cpu-clock ${PERFG:-} -F ${PERFF:-4000} -p $SP -o $PERF -- sleep 3 >/dev/null 2>&1
fi
wait $LP
kill $SP; wait $SP 2>/dev/null
EXTRA=""
if [ -n "$PERF" ]; then
  EXTRA=$(perf report -i $PERF --stdio --sort dso --show-nr-samples 2>/dev/null | awk -v d=$(( RATE * (CL/CH - 1) * 3 )) '
    /^#/||NF<3{next} {n=$2; if ($3 ~ /kernel/) k+=n; else u+=n}
    END{printf "perf user %.3f kernel %.3f us/del (%d+%d samples)", u*250/d, k*250/d, u, k}')
fi
python3 - "$OUT" "$EXTRA" <<'PY'
import json,sys
j=json.load(open(sys.argv[1])); c=j["cpu"]; l=j["latency"]
print(f'{j["clients"]}/{j["channels"]} rate {j["rate"]} delivered {j["delivered"]}/{j["expected"]} ({j["deliveries_per_s"]:.0f}/s) lost {j["lost"]} err {j["error_total"]} p50 {l["p50_us"]/1000:.2f} p99 {l["p99_us"]/1000:.2f} ms server {c["server_us_per_delivery"]:.3f} us/del ({c["server_user_s"]:.2f}u+{c["server_system_s"]:.2f}k) loadgen {c["loadgen_cpu_s"]:.2f}s {sys.argv[2]}')
PY
