#!/bin/bash
# chatpoll-lat.sh ROUNDS: p99 at 5,000 clients / 100 channels, 24,500 deliveries/s (10 s of
# sending), chatpoll's final server (br2) and main's (base), one invocation each per round,
# order alternating. Binaries in /tmp/chatpoll/{br2,base}-bin (main's loadgen in both).
CC=${CC:-/work/wt/chatpoll/target/release/chat-compare}
for r in $(seq $1); do
  for v in $( [ $((r%2)) = 1 ] && echo "br2 base" || echo "base br2"); do
    echo "=== round $r $v: $CC --servers uringo --rounds 1 --realtime --fixed 5000/100/24500 --duration 10 --ladder 100000 --ladder-duration 1 --bin-dir /tmp/chatpoll/$v-bin --out /tmp/chatpoll/lat/$v-$r"
    $CC --servers uringo --rounds 1 --realtime --fixed 5000/100/24500 --duration 10 --ladder 100000 --ladder-duration 1 --bin-dir /tmp/chatpoll/$v-bin --out /tmp/chatpoll/lat/$v-$r 2>&1
  done
done
