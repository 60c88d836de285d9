#!/bin/bash
# chatpoll-cg.sh VARIANT RATE: the chat server (/tmp/chatpoll/VARIANT-bin) under callgrind, one
# core, pinned to CPU 1; loadgen chat (1,000 clients, 50 channels, RATE deliveries/s, 4 s) on
# CPU 0; then SIGINT. Prints the server's whole-process instruction count (Ir), setup
# included: the difference between two rates over the difference in deliveries is the
# server's user-space instructions per delivery, whatever else runs on the machine.
V=$1; R=$2; B=/tmp/chatpoll/$V-bin; PORT=$((20000 + RANDOM % 20000)); OUT=/tmp/chatpoll/cg/cg.$V.$R.out
taskset -c 1 valgrind --tool=callgrind --callgrind-out-file=$OUT $B/uringo-server chat --cores 1 --flood-rate 0 --listen 127.0.0.1:$PORT > /tmp/chatpoll/cg/server.$V.$R.log 2>&1 &
SP=$!
for i in $(seq 300); do (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.1; done
taskset -c 0 $B/uringo-loadgen chat --addr 127.0.0.1:$PORT --clients 1000 --channels 50 --rate $R --duration 4s --cores 1 --json /tmp/chatpoll/cg/lg.$V.$R.json > /tmp/chatpoll/cg/lg.$V.$R.log 2>&1
kill -INT $SP; wait $SP
D=$(python3 -c "import json;j=json.load(open('/tmp/chatpoll/cg/lg.$V.$R.json'));print(j.get('delivered', j))" 2>/dev/null | head -c 200)
echo "$V rate $R: Ir $(grep -E '^summary:' $OUT | cut -d' ' -f2), loadgen delivered: $D"
