import re,sys,statistics as st,collections
d=collections.defaultdict(list); cap=collections.defaultdict(list); v=None; lad=False
for line in open(sys.argv[1]):
    m=re.match(r'=== round (\d+) (\S+):',line)
    if m: v=m.group(2); continue
    m=re.match(r'round \d+ (\S+)\s+fixed ([\d,]+) clients.*?p99 ([\d.]+) ms, server ([\d.]+) us/delivery',line)
    if m:
        name=v if m.group(1)=='uringo' else m.group(1)
        d[(m.group(2),name)].append((float(m.group(4)),float(m.group(3)))); continue
    if line.startswith('Rate ladder'): lad=True
    if line.startswith('Goals'): lad=False
    m=re.match(r'\| (uringo|inspircd)\s+\| ([≥<] )?([\d,]+)\s+\| [\d,]+',line)
    if m and lad:
        name=v if m.group(1)=='uringo' else m.group(1)
        cap[name].append((m.group(2) or '')+m.group(3))
print(f'{"clients":8} {"server":9} {"n":>2} {"us/del med":>10} {"min-max":>12} {"p99 ms med":>10} {"min-max":>12}')
for (w,name),rows in sorted(d.items()):
    us=[r[0] for r in rows]; p=[r[1] for r in rows]
    print(f'{w:8} {name:9} {len(rows):2} {st.median(us):10.2f} {min(us):5.2f}-{max(us):5.2f} {st.median(p):10.2f} {min(p):5.2f}-{max(p):6.2f}')
for name,c in cap.items(): print('capacity',name,c)
