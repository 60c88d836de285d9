"""Medians of lgchat2-ab.sh output: per rate and binary, and paired new/main within one round."""
import re, statistics as st, sys

RUN = re.compile(r'(\w+) round (\d+) rate (\w+):')


def runs(paths):
    """(file, binary, round, rate, loadgen us/delivery, 3rd-second delivered/s, server us/delivery) per run line."""
    for f in paths:
        for line in open(f):
            m, mu = RUN.match(line), re.search(r"loadgen cpu [\d.]+ s, ([\d.]+) us", line)
            if not (m and mu):
                continue
            s3 = re.search(r'3s\] sent \d+/s delivered +(\d+)/s', line)
            srv = re.search(r'server cpu [^,]*, ([\d.]+) us', line)
            yield (f, m.group(1), m.group(2), m.group(3), float(mu.group(1)),
                   int(s3.group(1)) if s3 else 0, float(srv.group(1)) if srv else None)


rows = list(runs(sys.argv[1:]))
by_binary, pairs = {}, {}
for f, name, rnd, rate, us, delivered, server in rows:
    by_binary.setdefault((rate, name), []).append((us, delivered, server))
    pairs.setdefault((f, rate, rnd), {})[name] = us
for (r, n), v in sorted(by_binary.items()):
    print(f"rate {r:6} {n:5} n={len(v)} loadgen us/delivery median {st.median(x[0] for x in v):.3f} (min {min(x[0] for x in v):.2f} max {max(x[0] for x in v):.2f})  3rd-second delivered median {st.median(x[1] for x in v)/1e6:.2f}M/s  server us/delivery median {st.median(x[2] for x in v):.2f}")
ratios = {}
for (f, r, i), v in pairs.items():
    if 'main' in v and 'new' in v:
        ratios.setdefault(r, []).append(v['new'] / v['main'])
for r, v in sorted(ratios.items()):
    print(f"rate {r}: paired new/main loadgen us/delivery, median {st.median(v):.3f} over {len(v)} rounds (min {min(v):.2f} max {max(v):.2f})")
