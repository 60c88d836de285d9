import os, sys, statistics as st, collections
# reads abc.sh lines; per (size,conns): median msgs/s and cpu per client, and median per-round ratio client/raw
rows = [l.split() for l in open(sys.argv[1]) if l[0].isdigit()]
by = collections.defaultdict(dict)
for r, s, c, cl, rate, cpu, err in rows:
    by[(int(s), int(c))].setdefault(cl, {})[int(r)] = (float(rate), float(cpu), int(err))
for (s, c), cls in sorted(by.items()):
    raw = cls.get('raw', {})
    for cl, runs in cls.items():
        rates = [v[0] for v in runs.values()]; cpus = [v[1] for v in runs.values()]
        line = f"{s:>5} B x {c:>3} {os.path.basename(cl):<10} n={len(runs)} msg/s {st.median(rates):>9.0f} cpu {st.median(cpus):.3f}"
        if cl != 'raw':
            ratios = sorted(runs[r][1] / raw[r][1] for r in runs if r in raw)
            line += f"  cpu/raw median {st.median(ratios):.3f} [{ratios[0]:.2f}..{ratios[-1]:.2f}]  errors {sum(v[2] for v in runs.values())}"
        print(line)
# paired: each loadgen binary against the first one given, per round
lgs = []
for l in open(sys.argv[1]):
    p = l.split()
    if l[0].isdigit() and p[3] != 'raw' and p[3] not in lgs: lgs.append(p[3])
if len(lgs) > 1:
    for (s, c), cls in sorted(by.items()):
        a = cls.get(lgs[0], {})
        for cl in lgs[1:]:
            b = cls.get(cl, {})
            rs = sorted(b[r][1] / a[r][1] for r in b if r in a)
            if rs: print(f"{s:>5} B x {c:>3} cpu {os.path.basename(cl)} / {os.path.basename(lgs[0])} per round: median {st.median(rs):.3f} [{rs[0]:.2f}..{rs[-1]:.2f}] n={len(rs)}")
