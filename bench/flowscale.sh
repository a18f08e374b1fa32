#!/bin/bash
# flowscale.sh: time add-flows and del-flows of N rules on a portless
# bridge, and the switch's resident memory per rule; goko, or Open vSwitch's
# userspace switch for comparison.
#
#   bench/flowscale.sh [--switchd PATH] [--ofctl PATH] [--timeout S] N...
#   bench/flowscale.sh --ovs DIR [--timeout S] N...
#
# For each N it starts the switch, adds N rules from a file with add-flows
# (goko's ofctl, or ovs-ofctl for OVS), reads VmRSS before and after,
# deletes them all with del-flows, and waits until dump-aggregate reports 0
# flows (a delete that outlives its connection is still timed). One line
# per N:
#   switch=goko rules=N add_s=.. del_s=.. rss_before_kb=.. rss_after_kb=.. bytes_per_rule=..
# The rules are `priority=P,ip,nw_dst=A.B.C.D,actions=output:1` with P
# cycling over 1..1000, so subtables have many priorities and their top
# priority changes while they drain.
#
# --ovs DIR runs DIR/usr/lib/openvswitch-switch/ovs-vswitchd (OVS 3.1 from
# the Debian package openvswitch-switch, unpacked there with
# `apt-get download openvswitch-switch; dpkg-deb -x *.deb DIR`, so that no
# system service is installed or started) with a private ovsdb-server
# (openvswitch-common), a netdev bridge in fail_mode=secure, in a private
# run directory.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
switchd=$here/bin/switchd
ofctl=$here/bin/ofctl
ovs=
timeout_s=900
while [ $# -gt 0 ]; do
	case $1 in
	--switchd) switchd=$2; shift 2 ;;
	--ofctl) ofctl=$2; shift 2 ;;
	--ovs) ovs=$2; shift 2 ;;
	--timeout) timeout_s=$2; shift 2 ;;
	*) break ;;
	esac
done
[ $# -gt 0 ] || { echo "usage: $0 [--switchd PATH] [--ofctl PATH] [--ovs DIR] [--timeout S] N..." >&2; exit 2; }

tmp=$(mktemp -d /tmp/goko-flowscale.XXXXXX)
prefix=goko-flowscale-$$
pid=
client=()
cleanup() {
	stop_switch
	rm -rf "$tmp" "/var/run/dpdk/$prefix"
}
trap cleanup EXIT

start_goko() {
	"$switchd" --bridge br0 --run-dir "$tmp" --dpdk-file-prefix "$prefix" --log-level warn 2>"$tmp/switchd.log" &
	pid=$!
	for _ in $(seq 100); do [ -S "$tmp/br0.mgmt" ] && break; sleep 0.1; done
	client=("$ofctl")
}

ovsenv() { OVS_RUNDIR=$tmp OVS_DBDIR=$tmp OVS_LOGDIR=$tmp OVS_SYSCONFDIR=$tmp "$@"; }

start_ovs() {
	rm -f "$tmp"/conf.db "$tmp"/*.pid
	ovsdb-tool create "$tmp/conf.db" "$ovs/usr/share/openvswitch/vswitch.ovsschema"
	ovsenv ovsdb-server "$tmp/conf.db" --remote="punix:$tmp/db.sock" --pidfile="$tmp/ovsdb.pid" \
		--unixctl="$tmp/ovsdb.ctl" --log-file="$tmp/ovsdb.log" --detach --no-chdir
	ovsenv "$ovs/usr/bin/ovs-vsctl" --db="unix:$tmp/db.sock" --no-wait init
	ovsenv "$ovs/usr/lib/openvswitch-switch/ovs-vswitchd" "unix:$tmp/db.sock" --pidfile="$tmp/vswitchd.pid" \
		--unixctl="$tmp/vswitchd.ctl" --log-file="$tmp/vswitchd.log" --detach --no-chdir
	ovsenv "$ovs/usr/bin/ovs-vsctl" --db="unix:$tmp/db.sock" --timeout=30 add-br br0 -- set bridge br0 datapath_type=netdev \
		fail_mode=secure protocols=OpenFlow13
	for _ in $(seq 100); do [ -S "$tmp/br0.mgmt" ] && break; sleep 0.1; done
	pid=$(cat "$tmp/vswitchd.pid")
	client=(ovs-ofctl -O OpenFlow13)
}

stop_switch() {
	if [ -n "$ovs" ]; then
		for p in vswitchd ovsdb; do
			[ -f "$tmp/$p.pid" ] && kill "$(cat "$tmp/$p.pid")" 2>/dev/null || true
		done
		sleep 0.5
	elif [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
	fi
	pid=
	rm -rf "/var/run/dpdk/$prefix"
}

rss() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
now() { date +%s.%N; }
count() { timeout "$timeout_s" "${client[@]}" dump-aggregate "unix:$tmp/br0.mgmt" 2>/dev/null | sed -n 's/.*flow_count=\([0-9]*\).*/\1/p' || true; }

for n in "$@"; do
	awk -v n="$n" 'BEGIN { for (i = 0; i < n; i++) printf "priority=%d,ip,nw_dst=%d.%d.%d.%d,actions=output:1\n", i % 1000 + 1, 10 + int(i / 16777216), int(i / 65536) % 256, int(i / 256) % 256, i % 256 }' >"$tmp/flows"
	if [ -n "$ovs" ]; then start_ovs; name=ovs; else start_goko; name=goko; fi
	target=unix:$tmp/br0.mgmt
	before=$(rss "$pid")
	t0=$(now)
	timeout "$timeout_s" "${client[@]}" add-flows "$target" "$tmp/flows"
	t1=$(now)
	after=$(rss "$pid")
	got=$(count)
	[ "$got" = "$n" ] || { echo "rules=$n: switch holds $got flows" >&2; exit 1; }
	t2=$(now)
	timeout "$timeout_s" "${client[@]}" del-flows "$target" || echo "del-flows: exit $? (still timing)" >&2
	left=
	until [ "$left" = 0 ]; do
		left=$(count)
		if [ "$(echo "$(now) - $t2 > $timeout_s" | bc)" = 1 ]; then left=timeout; break; fi
	done
	t3=$(now)
	printf 'switch=%s rules=%d add_s=%.2f del_s=%s rss_before_kb=%d rss_after_kb=%d bytes_per_rule=%d\n' "$name" "$n" \
		"$(echo "$t1 - $t0" | bc)" "$([ "$left" = 0 ] && printf '%.2f' "$(echo "$t3 - $t2" | bc)" || echo ">$timeout_s")" \
		"$before" "$after" $(((after - before) * 1024 / n))
	stop_switch
done
