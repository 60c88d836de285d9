import re,sys,statistics as st,collections
# per round: us/delivery of br, base, inspircd at each fixed workload; paired ratios
d=collections.defaultdict(dict); v=None; r=None
for line in open(sys.argv[1]):
    m=re.match(r'=== round (\d+) (\S+):',line)
    if m: r,v=int(m.group(1)),m.group(2); continue
    m=re.match(r'round \d+ (\S+)\s+fixed ([\d,]+) clients.*?p99 ([\d.]+) ms, server ([\d.]+) us/delivery',line)
    if m:
        name=v if m.group(1)=='uringo' else m.group(1)
        d[(m.group(2),r)][name]=float(m.group(4))
for w in sorted({k[0] for k in d}):
    ab=[d[(w,r)]['br']/d[(w,r)]['base'] for (ww,r) in d if ww==w and 'base' in d[(w,r)]]
    ai=[d[(w,r)]['br']/d[(w,r)]['inspircd'] for (ww,r) in d if ww==w and 'inspircd' in d[(w,r)]]
    print(f'{w} clients: br/base per round {[round(x,2) for x in ab]} median {st.median(ab):.2f}; br/inspircd (same invocation) {[round(x,2) for x in ai]} median {st.median(ai):.2f}')
