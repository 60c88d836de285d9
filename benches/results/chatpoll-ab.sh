#!/bin/bash
# chatpoll-ab.sh ROUNDS [LADDER]: interleaved chat-compare runs of chatpoll's server (br, with
# InspIRCd in the same invocation) and main's (base), one invocation each per round, order
# alternating per round. Binaries (uringo-server, uringo-loadgen) in /tmp/chatpoll/{br,base}-bin;
# the loadgen is main's in both. Summaries: chatcap-med.py and chatcap-pair.py on the output.
CC=${CC:-/work/wt/chatpoll/target/release/chat-compare}
LAD=${2:-3000000}
for r in $(seq $1); do
  for v in $( [ $((r%2)) = 1 ] && echo "br base" || echo "base br"); do
    s=uringo; [ $v = br ] && s=uringo,inspircd
    echo "=== round $r $v: $CC --servers $s --rounds 1 --realtime --ladder $LAD --bin-dir /tmp/chatpoll/$v-bin --out /tmp/chatpoll/ab/$v-$r"
    $CC --servers $s --rounds 1 --realtime --ladder $LAD --bin-dir /tmp/chatpoll/$v-bin --out /tmp/chatpoll/ab/$v-$r 2>&1
  done
done
