#!/bin/bash
# chatcap-ab.sh ROUNDS: chat-ab.sh for chatcap's server (br) against main's (base) on its
# 500k-3M ladder. Binaries in /tmp/chatcap/{br,base}-bin.
exec "$(dirname "$0")/chat-ab.sh" chatcap "$1" 500000,1000000,1250000,1500000,1750000,2000000,2250000,2500000,3000000
