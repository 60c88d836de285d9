#!/bin/bash
# chatpoll-ab2.sh ROUNDS: chatpoll's server (br) and main's (base) alone, the two fixed
# workloads with 10 s of sending each (twice the default, to average the shared machine's
# noise), one invocation each per round, order alternating. The ladder is one short step
# (chat-compare needs one). Binaries in /tmp/chatpoll/{br,base}-bin (main's loadgen in both).
# Summaries: chatcap-med.py and chatcap-pair.py on the output.
CC=${CC:-/work/wt/chatpoll/target/release/chat-compare}
for r in $(seq $1); do
  for v in $( [ $((r%2)) = 1 ] && echo "br base" || echo "base br"); do
    echo "=== round $r $v: $CC --servers uringo --rounds 1 --realtime --duration 10 --ladder 100000 --ladder-duration 1 --bin-dir /tmp/chatpoll/$v-bin --out /tmp/chatpoll/ab2/$v-$r"
    $CC --servers uringo --rounds 1 --realtime --duration 10 --ladder 100000 --ladder-duration 1 --bin-dir /tmp/chatpoll/$v-bin --out /tmp/chatpoll/ab2/$v-$r 2>&1
  done
done
