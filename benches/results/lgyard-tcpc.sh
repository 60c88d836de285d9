#!/bin/bash
# (lgyard) /tmp/lgyard/base holds release uringo-server and echo-raw-client (and base loadgens), copied from target/release; outputs go to /tmp/lgyard.
# usage: tcpc.sh SIZE CONNS LGBIN : system-wide TCP segment counters per message (nstat) for each client
S=$1; C=$2; LG=$3; P=7100; B=/tmp/lgyard/base
for who in raw lg; do
nstat -n >/dev/null
if [ $who = raw ]; then
M=$(taskset -c 0 $B/echo-raw-client --addr 127.0.0.1:$P --size $S --conns $C --duration 3 --warmup 0 | python3 -c "import json,sys;print(json.load(sys.stdin)['messages'])")
else
taskset -c 0 $LG echo --addr 127.0.0.1:$P --size $S --conns $C --duration 3 --warmup 0.001 --cores 1 --json /tmp/lgyard/lg.json >/dev/null 2>&1
M=$(python3 -c "import json;print(json.load(open('/tmp/lgyard/lg.json'))['messages'])")
fi
echo "$who $S x $C msgs $M per msg:"; nstat | awk -v m=$M 'NR>1 && $2/m > 0.005 {printf "  %s=%.3f", $1, $2/m} END {print ""}'
done
