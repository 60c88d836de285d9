#!/bin/bash
# chatpoll-syscalls.sh NAME BINDIR SERVER: one fixed run (1000/50/38000, 10 s) with perf stat counting the server's syscalls over its life
NAME=$1; BIN=$2; S=$3
CC=/work/wt/chatpoll/target/release/chat-compare
$CC --servers $S --rounds 1 --realtime --fixed 1000/50/38000 --duration 10 --ladder 100000 --ladder-duration 1 --bin-dir $BIN --out /tmp/chatpoll/sys/$NAME > /tmp/chatpoll/sys/$NAME.cc.txt 2>&1 &
CCPID=$!
PAT=$([ $S = inspircd ] && echo '^/usr/sbin/inspircd' || echo 'uringo-server chat')
for i in $(seq 600); do P=$(pgrep -f "$PAT" | head -1); [ -n "$P" ] && break; sleep 0.1; done
echo "server pid $P"
perf stat -e raw_syscalls:sys_enter,syscalls:sys_enter_write,syscalls:sys_enter_writev,syscalls:sys_enter_sendto,syscalls:sys_enter_sendmsg,syscalls:sys_enter_read,syscalls:sys_enter_recvfrom,syscalls:sys_enter_epoll_wait,syscalls:sys_enter_epoll_pwait,syscalls:sys_enter_io_uring_enter,syscalls:sys_enter_epoll_ctl,context-switches -p $P -o /tmp/chatpoll/sys/$NAME.perf.txt
wait $CCPID
