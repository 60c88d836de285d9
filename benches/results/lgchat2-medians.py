import re,sys,statistics as st
d={}
for f in sys.argv[1:]:
    for l in open(f):
        m=re.match(r'(\w+) round \d+ rate (\w+):',l)
        if not m: continue
        mu=re.search(r"loadgen cpu [\d.]+ s, ([\d.]+) us",l)
        if not mu: continue
        us=float(mu.group(1))
        s3=re.search(r'3s\] sent \d+/s delivered +(\d+)/s',l)
        srv=re.search(r'server cpu [^,]*, ([\d.]+) us',l)
        d.setdefault((m.group(2),m.group(1)),[]).append((us,int(s3.group(1)) if s3 else 0,float(srv.group(1))))
for (r,n),v in sorted(d.items()):
    print(f"rate {r:6} {n:5} n={len(v)} loadgen us/delivery median {st.median(x[0] for x in v):.3f} (min {min(x[0] for x in v):.2f} max {max(x[0] for x in v):.2f})  3rd-second delivered median {st.median(x[1] for x in v)/1e6:.2f}M/s  server us/delivery median {st.median(x[2] for x in v):.2f}")
# paired: per rate and round, new/main
pairs={}
for f in sys.argv[1:]:
    for l in open(f):
        m=re.match(r'(\w+) round (\d+) rate (\w+):',l)
        if not m: continue
        mu=re.search(r"loadgen cpu [\d.]+ s, ([\d.]+) us",l)
        if not mu: continue
        us=float(mu.group(1))
        pairs.setdefault((f,m.group(3),m.group(2)),{})[m.group(1)]=us
rat={}
for (f,r,i),v in pairs.items():
    if 'main' in v and 'new' in v: rat.setdefault(r,[]).append(v['new']/v['main'])
for r,v in sorted(rat.items()):
    print(f"rate {r}: paired new/main loadgen us/delivery, median {st.median(v):.3f} over {len(v)} rounds (min {min(v):.2f} max {max(v):.2f})")
