#!/bin/bash
# ab.sh ROUNDS NAME=BIN... : interleaved pinned SCHED_FIFO runs of each
# server binary at each workload, variant order rotated each round.
# Workloads: CLIENTS/CHANNELS/DELIVERIES_PER_S/SECONDS (env WORKLOADS).
set -u
ROUNDS=$1; shift
VARS=("$@")
WL=${WORKLOADS:-"1000/50/38000/5 5000/100/24500/5 1000/10/500000/3 1000/10/1000000/3 1000/10/1500000/3"}
PORT=7810
others_busy() { # other real-time user processes using CPU
  for p in $(ps -eo cls,pid,comm --no-headers | awk '($1=="FF"||$1=="RR"){print $2}'); do
    [ -r /proc/$p/stat ] || continue
    c=$(cat /proc/$p/cmdline 2>/dev/null | tr '\0' ' ')
    [ -z "$c" ] && continue   # kernel thread
    echo "$p"
  done
}
cpu_of() { awk '{print $14+$15}' /proc/$1/stat 2>/dev/null || echo 0; }
wait_quiet() {
  for i in $(seq 300); do
    busy=0
    for p in $(others_busy); do a=$(cpu_of $p); sleep 0.2; b=$(cpu_of $p); [ $((b-a)) -gt 2 ] && busy=1; done
    [ $busy = 0 ] && return
    echo "# waiting for other real-time work" >&2; sleep 1
  done
}
for r in $(seq $ROUNDS); do
  n=${#VARS[@]}
  for w in $WL; do
    IFS=/ read CL CH DPS SEC <<< "$w"
    PER=$((CL/CH - 1)); RATE=$(( (DPS + PER/2) / PER ))
    for k in $(seq 0 $((n-1))); do
      v=${VARS[$(( (k + r) % n ))]}
      name=${v%%=*}; bin=${v#*=}
      for try in 1 2 3 4; do
        wait_quiet
        PORT=$((PORT+1))
        rm -f /tmp/chatcap/stop; python3 /tmp/chatcap/watch_rt.py /tmp/chatcap/stop > /tmp/chatcap/watch.out &
        out=$(/tmp/chatcap/run1.sh $bin $PORT $CL $CH $RATE ${SEC}s /tmp/chatcap/ab-$name.json ${PERFOUT:-} 2>/dev/null | tail -1)
        touch /tmp/chatcap/stop; wait
        q=$(cat /tmp/chatcap/watch.out)
        [ "$q" = quiet ] && break
        echo "# discarded (try $try, $q): $name $w: $out"
      done
      echo "round $r $name $w: $out"
    done
  done
done
