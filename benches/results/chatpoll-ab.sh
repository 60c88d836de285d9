#!/bin/bash
# chatpoll-ab.sh ROUNDS [LADDER]: chat-ab.sh for chatpoll's server (br) against main's (base),
# ladder 3,000,000 unless given. Binaries in /tmp/chatpoll/{br,base}-bin; the loadgen is main's
# in both.
exec "$(dirname "$0")/chat-ab.sh" chatpoll "$1" "${2:-3000000}"
