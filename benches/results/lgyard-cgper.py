#!/usr/bin/env python3
# usage: lgyard-cgper.py CALLGRIND_OUT...: per echo receive (Verifier::feed calls), inclusive Ir of every task poll,
# and the same less the progress line's once-a-second histogram functions
import sys, re, subprocess
def calls_to(path, pat):
    names = {}; total = 0; cur = None
    for line in open(path, errors='replace'):
        m = re.match(r'c?fn=\((\d+)\)(?: (.*))?', line)
        if line.startswith('cfn='):
            i, n = m.group(1), m.group(2)
            if n: names[i] = n
            cur = names.get(i, '')
        elif line.startswith('fn='):
            i, n = m.group(1), m.group(2)
            if n: names[i] = n
        elif line.startswith('calls=') and cur is not None:
            if re.search(pat, cur): total += int(line.split('=')[1].split()[0])
            cur = None
    return total
# Ir per receive of every task poll, less the ticker's once-a-second histogram work (its own functions, not inlined),
# which weighs per message as many times more as valgrind's rate is lower
for f in sys.argv[1:]:
    feeds = calls_to(f, r'Verifier::feed')
    out = subprocess.run(['callgrind_annotate', '--inclusive=yes', f], capture_output=True, text=True).stdout
    def incl(pat):
        for l in out.splitlines():
            if re.search(pat, l): return int(l.split()[0].replace(',', ''))
        return 0
    poll = incl(r'runtime/src/task/raw.rs:uringo::task::raw::poll \[')
    second = sum(incl(p) for p in [r'latency::gained_since \[', r'latency::merge \[', r'Histogram<T>::subtract \[', r'latency::histogram \[', r'latency::progress_histogram \[', r'ticker::report_seconds_with', r'count_ring'])
    feed = incl(r'pattern::Verifier::feed \[')
    tag = 'base' if 'base' in f else 'new'
    print(f"{tag:<4} {f:<16} receives {feeds:>7}  task polls {poll/feeds:5.0f} Ir/recv, less per-second histogram work {(poll-second)/feeds:5.0f}  (verify {feed/feeds:.0f})")
