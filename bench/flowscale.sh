#!/bin/bash
# flowscale.sh: time add-flows and del-flows of N rules on a portless goko
# bridge, and the switch's resident memory per rule.
#
#   bench/flowscale.sh [--switchd PATH] [--ofctl PATH] N...
#
# For each N it starts switchd, adds N rules from a file with
# `ofctl add-flows` (one FLOW_MOD each, then a barrier), reads VmRSS before
# and after, deletes them all with `ofctl del-flows`, and waits until
# `ofctl dump-aggregate` reports 0 flows (a delete that outlives its
# connection is still timed). It prints one line per N:
#   rules=N add_s=.. del_s=.. rss_before_kb=.. rss_after_kb=.. bytes_per_rule=..
# The rules are `priority=P,ip,nw_dst=A.B.C.D,actions=output:1` with P
# cycling over 1..1000, so subtables have many priorities and their top
# priority changes while they drain.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
switchd=$here/bin/switchd
ofctl=$here/bin/ofctl
timeout_s=900
while [ $# -gt 0 ]; do
	case $1 in
	--switchd) switchd=$2; shift 2 ;;
	--ofctl) ofctl=$2; shift 2 ;;
	--timeout) timeout_s=$2; shift 2 ;;
	*) break ;;
	esac
done
[ $# -gt 0 ] || { echo "usage: $0 [--switchd PATH] [--ofctl PATH] [--timeout S] N..." >&2; exit 2; }

tmp=$(mktemp -d /tmp/goko-flowscale.XXXXXX)
prefix=goko-flowscale-$$
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
	rm -rf "$tmp" "/var/run/dpdk/$prefix"
}
trap cleanup EXIT

rss() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
now() { date +%s.%N; }

for n in "$@"; do
	awk -v n="$n" 'BEGIN { for (i = 0; i < n; i++) printf "priority=%d,ip,nw_dst=%d.%d.%d.%d,actions=output:1\n", i % 1000 + 1, 10 + int(i / 16777216), int(i / 65536) % 256, int(i / 256) % 256, i % 256 }' >"$tmp/flows"
	port=$((20000 + RANDOM % 20000))
	"$switchd" --bridge br0 --listen "ptcp:$port:127.0.0.1" --run-dir "$tmp" \
		--dpdk-file-prefix "$prefix" --log-level warn 2>"$tmp/switchd.log" &
	pid=$!
	for _ in $(seq 100); do [ -S "$tmp/br0.mgmt" ] && break; sleep 0.1; done
	target=unix:$tmp/br0.mgmt
	before=$(rss "$pid")
	t0=$(now)
	timeout "$timeout_s" "$ofctl" add-flows "$target" "$tmp/flows"
	t1=$(now)
	after=$(rss "$pid")
	got=$("$ofctl" dump-aggregate "$target" | sed -n 's/.*flow_count=\([0-9]*\).*/\1/p')
	[ "$got" = "$n" ] || { echo "rules=$n: switch holds $got flows" >&2; exit 1; }
	t2=$(now)
	timeout "$timeout_s" "$ofctl" del-flows "$target" || echo "del-flows: exit $? (still timing)" >&2
	left=
	until [ "$left" = 0 ]; do
		left=$(timeout "$timeout_s" "$ofctl" dump-aggregate "$target" 2>/dev/null | sed -n 's/.*flow_count=\([0-9]*\).*/\1/p') || true
		if [ "$(echo "$(now) - $t2 > $timeout_s" | bc)" = 1 ]; then left=timeout; break; fi
	done
	t3=$(now)
	printf 'rules=%d add_s=%.2f del_s=%s rss_before_kb=%d rss_after_kb=%d bytes_per_rule=%d\n' "$n" \
		"$(echo "$t1 - $t0" | bc)" "$([ "$left" = 0 ] && printf '%.2f' "$(echo "$t3 - $t2" | bc)" || echo ">$timeout_s")" \
		"$before" "$after" $(((after - before) * 1024 / n))
	kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
	rm -rf "/var/run/dpdk/$prefix"
done
