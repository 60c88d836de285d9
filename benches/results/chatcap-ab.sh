#!/bin/bash
# ab.sh ROUNDS: interleaved chat-compare runs of chatcap's server (br, with InspIRCd) and
# main's (base), one round each per invocation, order alternating per round.
CC=/work/wt/chatcap/target/release/chat-compare
LAD=500000,1000000,1250000,1500000,1750000,2000000,2250000,2500000,3000000
for r in $(seq $1); do
  for v in $( [ $((r%2)) = 1 ] && echo "br base" || echo "base br"); do
    s=uringo; [ $v = br ] && s=uringo,inspircd
    echo "=== round $r $v: $CC --servers $s --rounds 1 --realtime --ladder $LAD --bin-dir /tmp/chatcap/$v-bin --out /tmp/chatcap/ab/$v-$r"
    $CC --servers $s --rounds 1 --realtime --ladder $LAD --bin-dir /tmp/chatcap/$v-bin --out /tmp/chatcap/ab/$v-$r 2>&1
  done
done
