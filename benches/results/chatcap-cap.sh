#!/bin/bash
# cap.sh ROUNDS: the rate ladder above 3M deliveries/s for chatcap's server (br) and main's
# (base), interleaved, order alternating per round.
CC=/work/wt/chatcap/target/release/chat-compare
LAD=2500000,3000000,3500000,4000000,5000000,6000000
for r in $(seq $1); do
  for v in $( [ $((r%2)) = 1 ] && echo "br base" || echo "base br"); do
    echo "=== round $r $v: $CC --servers uringo --rounds 1 --realtime --fixed 1000/50/38000 --duration 2 --ladder $LAD --bin-dir /tmp/chatcap/$v-bin --out /tmp/chatcap/cap/$v-$r"
    $CC --servers uringo --rounds 1 --realtime --fixed 1000/50/38000 --duration 2 --ladder $LAD --bin-dir /tmp/chatcap/$v-bin --out /tmp/chatcap/cap/$v-$r 2>&1
  done
done
