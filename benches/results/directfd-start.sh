# Sourced by the directfd-*.sh scripts: start_server BIN PORT FIXED LOG starts `BIN echo` on
# 127.0.0.1:PORT, pinned to CPU 1 at SCHED_FIFO 20, with URINGO_FIXED_FILES=FIXED (`default`:
# unset), sets $spid and waits until it listens.
start_server() {
  local bin=$1 port=$2 fixed=$3 log=$4
  if [ "$fixed" = default ]; then
    env -u URINGO_FIXED_FILES chrt -f 20 taskset -c 1 "$bin" echo --listen 127.0.0.1:$port --cores 1 > "$log" 2>&1 &
  else
    URINGO_FIXED_FILES=$fixed chrt -f 20 taskset -c 1 "$bin" echo --listen 127.0.0.1:$port --cores 1 > "$log" 2>&1 &
  fi
  spid=$!
  for _ in $(seq 50); do grep -q listening "$log" && break; sleep 0.1; done
}
