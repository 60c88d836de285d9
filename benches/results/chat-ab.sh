#!/bin/bash
# chat-ab.sh NAME ROUNDS LADDER: interleaved chat-compare runs of branch NAME's server (br, with
# InspIRCd in the same invocation) and main's (base), one invocation each per round, order
# alternating per round. Binaries (uringo-server, uringo-loadgen) in /tmp/NAME/{br,base}-bin,
# outputs in /tmp/NAME/ab/; chat-compare from NAME's worktree unless CC is set.
# Summaries: chatcap-med.py and chatcap-pair.py on the output.
NAME=$1
CC=${CC:-/work/wt/$NAME/target/release/chat-compare}
LAD=$3
for r in $(seq $2); do
  for v in $( [ $((r%2)) = 1 ] && echo "br base" || echo "base br"); do
    s=uringo; [ $v = br ] && s=uringo,inspircd
    echo "=== round $r $v: $CC --servers $s --rounds 1 --realtime --ladder $LAD --bin-dir /tmp/$NAME/$v-bin --out /tmp/$NAME/ab/$v-$r"
    $CC --servers $s --rounds 1 --realtime --ladder $LAD --bin-dir /tmp/$NAME/$v-bin --out /tmp/$NAME/ab/$v-$r 2>&1
  done
done
