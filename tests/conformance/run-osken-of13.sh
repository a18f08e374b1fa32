#!/bin/bash
# Runs os-ken's OpenFlow switch tester (os_ken.tests.switch.tester) against
# goko: the target switch is a goko switchd (datapath id 1), the tester
# switch a second goko switchd (datapath id 2), joined port for port by three
# veth pairs (target 1<->tester 1, 2<->2, 3<->3, the tester's default
# topology). Everything runs in two network namespaces of its own, with IPv6
# off on the links so that the kernel sends nothing onto them; the
# namespaces, both switchds, the controller and their DPDK state are removed
# on exit.
#
# usage: tests/conformance/run-osken-of13.sh CASE_DIR [OUT_DIR]
#
# CASE_DIR holds the JSON case files (for example the of13 folder of the
# public ryu or os-ken repository, see README.md here); subfolders are read
# too. OUT_DIR (default: a new directory under /tmp) receives osken.log (the
# tester's own output), target.log, tester.log, results.tsv (one line per
# case: category, file, case, OK or ERROR, error detail) and summary.txt,
# which is also printed. Needs root, python3-os-ken, and bin/switchd
# (GOKO_BIN=DIR to use another directory). TIMEOUT (seconds, default 14400)
# bounds the whole run. PORTS=af_xdp (the default) or af_packet chooses how
# the switchds open the veths, OF13_PACING=clock paces the tester's
# throughput traffic by the clock; README.md here says why.
set -euo pipefail

case_dir=${1:?usage: $0 CASE_DIR [OUT_DIR]}
case_dir=$(cd "$case_dir" && pwd)
out=${2:-$(mktemp -d /tmp/goko-of13.XXXXXX)}
mkdir -p "$out"
out=$(cd "$out" && pwd)
top=$(cd "$(dirname "$0")/../.." && pwd)
bin=${GOKO_BIN:-$top/bin}
timeout=${TIMEOUT:-14400}
ports=${PORTS:-af_xdp}

[ -x "$bin/switchd" ] || { echo "no $bin/switchd: go build -o bin/ ./cmd/..." >&2; exit 2; }
command -v osken-manager >/dev/null || { echo "osken-manager not found (apt-get install python3-os-ken)" >&2; exit 2; }

id=$$
# The two switches run in namespaces of their own: DPDK's af_packet driver
# names its PACKET_FANOUT group after the process id and the interface
# index, and two switchds in one namespace collide on it now and then (the
# port then fails to open). The controller runs beside the target switch;
# the tester switch reaches it over a link-local control link.
nst=gkof13t-$id
nss=gkof13s-$id
rundir=$out/run
pids=()

cleanup() {
	set +e
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null
	done
	for p in "${pids[@]}"; do
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$p" 2>/dev/null
	done
	ip netns del "$nst" 2>/dev/null
	ip netns del "$nss" 2>/dev/null
	rm -rf "/var/run/dpdk/gkof13-tgt-$id" "/var/run/dpdk/gkof13-tst-$id" "$rundir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add "$nst"
ip netns add "$nss"
for ns in "$nst" "$nss"; do
	ip -n "$ns" link set lo up
done
quiet_up() { # NS DEV: no IPv6 (router solicitations and MLD reports would
	# reach the tester as packets no case sent), then up.
	ip netns exec "$1" sysctl -qw "net.ipv6.conf.$2.disable_ipv6=1"
	ip -n "$1" link set "$2" up
}
for i in 1 2 3; do
	ip -n "$nst" link add "tgt$i" type veth peer name "tst$i" netns "$nss"
	quiet_up "$nst" "tgt$i"
	quiet_up "$nss" "tst$i"
done
ip -n "$nst" link add ctl type veth peer name ctl netns "$nss"
quiet_up "$nst" ctl
quiet_up "$nss" ctl
ip -n "$nst" addr add 169.254.13.1/30 dev ctl
ip -n "$nss" addr add 169.254.13.2/30 dev ctl

# The namespaces are new, so the usual port is free.
ofport=6653

# shellcheck disable=SC2086 # OSKEN_ARGS and OSKEN_APPS are word lists
ip netns exec "$nst" osken-manager --ofp-tcp-listen-port "$ofport" \
	--test-switch-dir "$case_dir" \
	--test-switch-target 0000000000000001 --test-switch-tester 0000000000000002 \
	${OSKEN_ARGS:-} "$top/tests/conformance/of13_py3.py" ${OSKEN_APPS:-} \
	os_ken.tests.switch.tester \
	>"$out/osken.log" 2>&1 &
osken=$!
pids+=("$osken")
for _ in $(seq 100); do
	kill -0 "$osken" 2>/dev/null || break
	ip netns exec "$nst" bash -c "echo > /dev/tcp/127.0.0.1/$ofport" 2>/dev/null && break
	sleep 0.2
done

port() { # NUMBER IFNAME
	case $ports in
	af_packet) echo "$1=$2" ;;
	af_xdp) echo "$1=dpdk:net_af_xdp$1,iface=$2" ;;
	*) echo "PORTS=$ports: want af_packet or af_xdp" >&2; exit 2 ;;
	esac
}
start_switch() { # NS NAME DPID PREFIX PORTNAME CONTROLLER
	ip netns exec "$1" "$bin/switchd" --bridge "$2" --datapath-id "$3" \
		--port "$(port 1 "${5}1")" --port "$(port 2 "${5}2")" --port "$(port 3 "${5}3")" \
		--controller "tcp:$6:$ofport" --run-dir "$rundir" \
		--dpdk-file-prefix "$4" --dpdk-memory 256 --log-level info \
		>"$out/$2.log" 2>&1 &
	pids+=("$!")
}
start_switch "$nst" target 0x1 "gkof13-tgt-$id" tgt 127.0.0.1
start_switch "$nss" tester 0x2 "gkof13-tst-$id" tst 169.254.13.1

# The tester ends itself (SIGTERM to its own process) after the last case.
waited=0
while kill -0 "$osken" 2>/dev/null; do
	if [ "$waited" -ge "$timeout" ]; then
		echo "timeout after ${timeout}s" >&2
		break
	fi
	sleep 5
	waited=$((waited + 5))
done

python3 "$top/tests/conformance/of13_results.py" "$out/osken.log" "$out/results.tsv" | tee "$out/summary.txt"
echo "logs and results.tsv in $out"
