import re,sys,collections,statistics as st
d=collections.defaultdict(list)
for line in open(sys.argv[1]):
    m=re.match(r'round \d+ (\S+) (\S+): .*?delivered (\d+)/(\d+).*?lost (\d+) err (\d+) p50 ([\d.]+) p99 ([\d.]+) ms server ([\d.]+) us/del \(([\d.]+)u\+([\d.]+)k\) loadgen ([\d.]+)s(?: perf user ([\d.]+) kernel ([\d.]+))?',line)
    if not m: continue
    name,w=m.group(1),m.group(2)
    d[(w,name)].append([float(x) if x else float('nan') for x in m.groups()[2:]])
print(f'{"workload":22} {"server":8} {"n":>2} {"us/del":>7} {"(min-max)":>13} {"perf u":>6} {"perf k":>6} {"p50":>6} {"p99":>7} {"lost":>5} {"lg s":>5}')
for (w,name),rows in sorted(d.items()):
    col=lambda i:[r[i] for r in rows]
    us=col(6)
    print(f'{w:22} {name:8} {len(rows):2} {st.median(us):7.3f} {min(us):6.3f}-{max(us):6.3f} {st.median(col(10)):6.3f} {st.median(col(11)):6.3f} {st.median(col(4)):6.2f} {st.median(col(5)):7.2f} {sum(col(2)):5.0f} {st.median(col(9)):5.2f}')
