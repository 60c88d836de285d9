#!/bin/bash
# (lgyard) /tmp/lgyard/base holds release uringo-server and echo-raw-client (and base loadgens), copied from target/release; outputs go to /tmp/lgyard.
# Interleaved A/B of loadgen binaries against echo-raw-client, same uringo-server.
# usage: abc.sh ROUNDS SIZE CONNS DUR WARMUP LGBIN...   (server CPU 1, clients CPU 0)
# Prints one line per run: round size conns client msgs/s cpu_us_per_msg errors
R=$1; S=$2; C=$3; D=$4; W=$5; shift 5; LGS=("$@")
B=/tmp/lgyard/base; P=$((7200 + RANDOM % 500))
clients=(raw "${LGS[@]}")
n=${#clients[@]}
for r in $(seq 1 $R); do
  taskset -c 1 $B/uringo-server echo --listen 127.0.0.1:$P --cores 1 --backend io-uring >/tmp/lgyard/runs/server.log 2>&1 &
  SP=$!
  for i in $(seq 1 50); do (exec 3<>/dev/tcp/127.0.0.1/$P) 2>/dev/null && break; sleep 0.05; done
  for k in $(seq 0 $((n-1))); do
    c=${clients[$(( (k + r) % n ))]}
    if [ "$c" = raw ]; then
      out=$(taskset -c 0 $B/echo-raw-client --addr 127.0.0.1:$P --size $S --conns $C --duration $D --warmup $W)
      echo "$out" | python3 -c "import json,sys;d=json.load(sys.stdin);print('$r $S $C raw %.0f %.4f %d'%(d['msgs_per_s'],d['cpu_us_per_msg'],d['errors']))"
    else
      taskset -c 0 $c echo --addr 127.0.0.1:$P --size $S --conns $C --duration $D --warmup $W --cores 1 --server-pid $SP --json /tmp/lgyard/runs/lg.json >/dev/null 2>>/tmp/lgyard/runs/lg.err
      python3 -c "import json;d=json.load(open('/tmp/lgyard/runs/lg.json'));c=d['cpu'];print('$r $S $C $c %.0f %.4f %d'%(d['msgs_per_s'],c['loadgen_us_per_msg'],d['error_total']))"
    fi
  done
  kill $SP; wait $SP 2>/dev/null
done
