# watch_rt.py STOPFILE: samples other real-time user processes (cmdline not
# under /tmp/chatcap) every 0.2 s until STOPFILE exists; prints "disturbed
# by ..." if any of them used more than 20 ms of CPU meanwhile.
import os,sys,time
stop=sys.argv[1]; first={}; last={}; names={}
def scan():
    for p in os.listdir('/proc'):
        if not p.isdigit(): continue
        try:
            st=open(f'/proc/{p}/stat').read(); cmd=open(f'/proc/{p}/cmdline').read().replace('\0',' ')
        except OSError: continue
        if not cmd or '/tmp/chatcap' in cmd: continue
        f=st[st.rindex(')')+2:].split()
        if int(f[38])==0: continue   # policy SCHED_OTHER
        t=int(f[11])+int(f[12]); first.setdefault(p,t); last[p]=t; names[p]=cmd[:60]
while not os.path.exists(stop):
    scan(); time.sleep(0.2)
scan()
bad=[names[p] for p in last if last[p]-first[p]>2]
print('disturbed by '+'; '.join(bad) if bad else 'quiet')
