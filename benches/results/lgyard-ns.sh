#!/bin/bash
# (lgyard) /tmp/lgyard/base holds release uringo-server and echo-raw-client (and base loadgens), copied from target/release; outputs go to /tmp/lgyard.
# runs tcpc.sh for a cell inside a fresh network namespace (own loopback, own counters)
S=$1; C=$2; LG=$3
unshare -n bash -c "ip link set lo up; taskset -c 1 /tmp/lgyard/base/uringo-server echo --listen 127.0.0.1:7100 --cores 1 --backend io-uring >/tmp/lgyard/ns-server.log 2>&1 & SP=\$!; sleep 0.3; /tmp/lgyard/lgyard-tcpc.sh $S $C $LG; kill \$SP"
