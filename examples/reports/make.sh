#!/usr/bin/env bash
# Makes the two example reports (site-a.json, site-b.json) that `scripts/html-screenshot`
# merges: one loopback "site" per run, inside a namespace of its own (no route off the
# machine). Run as root; the reports are committed, so this is only for refreshing them.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${MVE_AUDIT:-$here/../../target/release/mve-audit}
ns=mvt-example-$$
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; ip netns del "$ns" 2>/dev/null || true; }
trap cleanup EXIT
ip netns add "$ns"
ip -n "$ns" link set lo up
in_ns() { ip netns exec "$ns" "$@"; }
# Printers 127.0.0.10-17: web servers on .10-.13, RAW listeners on .10-.11, .16-.17 dark.
for a in 10 11 12 13; do in_ns python3 -m http.server 80 --bind 127.0.0.$a >/dev/null 2>&1 & pids+=($!); done
for a in 10 11; do in_ns python3 -c "import socket,time;s=socket.socket();s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1);s.bind(('127.0.0.$a',9100));s.listen();time.sleep(60)" & pids+=($!); done
in_ns nft -f - <<'NFT'
table inet example {
  chain input {
    type filter hook input priority 0;
    ip daddr { 127.0.0.16, 127.0.0.17 } drop
  }
}
NFT
sleep 1
run() { in_ns "$bin" check --printers 127.0.0.10-17 --checks snmp,npap,http,https,raw --timeout 300ms --retries 1 --format json --vantage "$1" > "$here/$1.json" || true; }
run site-a
# Site B sees .12 and .13 through a firewall that drops HTTP.
in_ns nft add rule inet example input ip daddr '{ 127.0.0.12, 127.0.0.13 }' tcp dport 80 drop
run site-b
