#!/usr/bin/env bash
# ovs-compare.sh: goko against OVS-DPDK, side by side, on one PMD core each.
#
# Both switches get the same two DPDK vdevs (port 1: net_pcap replaying a
# capture forever with infinite_rx=1; port 2: net_null with no-rx=1 as the
# sink), the same EAL memory mode, the same core (taskset -c CORE), and the
# same OpenFlow rules, installed through OpenFlow with ovs-ofctl. The rate is
# the sink port's tx counter, read with ovs-ofctl dump-ports at the start and
# the end of a fixed window after a warm-up, together with the CPU time the
# switch got in that window (packets per CPU-second: its rate with the core to
# itself, when other work on the machine takes turns on it). Runs are
# interleaved (goko, OVS, goko, OVS, ...; the order flips every round) and
# the table shows medians: on these VMs one run can be 20% off the next.
#
# Scenarios e and f are (a) while a controller (bench/churn) adds and deletes
# flows unrelated to the traffic at 100 and 1000 flow-mods per second, each
# followed by a barrier; each round also measures each switch with the same
# rules and no churn right before, and the table gives the churn rate as a
# share of that quiet rate, paired by round (and of (a)'s, by medians).
#
# Scenario g puts a filter program (examples/bpf/firewall, maps empty, so
# nothing is blocked) on each of the 256 rules of scenario a: goko with the
# filter, goko without it and OVS-DPDK without it, interleaved. OVS has no
# filter programs; the row says what a filter on every rule costs goko.
#
# Run as root from anywhere:  bench/ovs-compare.sh [--quick] [--rounds N] ...
# Everything it starts or creates is removed on exit (processes by PID,
# its temporary directory, DPDK runtime dirs /var/run/dpdk/<prefix>, the
# hugetlbfs mount it made, and the hugepage reservation it added).
set -uo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)
export PATH=/usr/local/go/bin:$PATH

# ---------------------------------------------------------------- options
ROUNDS=3
WARMUP=3
DURATION=6
PACKETS=""           # default: 40000, or what goko's mbuf pool can hold
CORE=1               # the one core both switches run on (the first, with --pmds N)
PMDS=1               # poll-mode threads of each switch, on cores CORE..CORE+N-1
HUGEPAGES=auto       # auto: use 2M hugepages if they can be reserved; no: --no-huge
MEM_MB=1024          # EAL memory (-m), the same for both
SCENARIOS="a b c d e f g"
CHURN_RATE=0         # flow-mods per second of the churn client in this run (scenarios e, f)
CEILING=1
PERF=0
PERF_SCENARIO=""     # the scenario --perf profiles (default: the first of --scenarios)
OVS=1                # 0: goko only (--no-ovs), for A/B runs of two goko builds
BUILD=1
INSTALL=1
SWITCHD=""
OUT=""

usage() {
	cat <<EOF
usage: $0 [options]
  --quick            1 round, 2 s warm-up, 3 s window (a smoke run, under 2 minutes)
  --rounds N         interleaved rounds (default $ROUNDS)
  --duration S       measurement window in seconds (default $DURATION)
  --warmup S         seconds of traffic before the window (default $WARMUP)
  --packets N        packets in each capture (default 40000, capped to what goko can load)
  --core C           the CPU both switches are pinned to (default $CORE)
  --pmds N           N poll-mode threads per switch, on N cores from --core on (port 1 gets N
                     receive queues: the capture is replayed once per queue); rates per CPU-second
                     are then per core
  --no-hugepages     run both with --no-huge --legacy-mem (default: 2M hugepages if possible)
  --scenarios "a b"  subset of: a b c d e f g (default all; e, f: (a) with 100 and 1000 flow-mods/s;
                     g: (a) with a filter program on every rule, on goko)
  --no-ceiling       skip the io-forward ceiling (iofwd)
  --perf             perf-record goko's PMD in round 1 during the first scenario of --scenarios
                     (or --perf-scenario's); report and perf.data in the output dir
  --perf-scenario S  the scenario --perf profiles (implies --perf)
  --no-ovs           run goko only (no OVS-DPDK runs, no ratios): quick A/B of goko builds
  --no-build         use the existing bin/switchd
  --no-install       do not apt-get install missing packages
  --switchd PATH     goko binary to test (implies --no-build)
  --out DIR          keep logs, raw figures and the table in DIR (default: a temp dir, removed)
EOF
}

while [ $# -gt 0 ]; do
	case "$1" in
	--quick) ROUNDS=1 WARMUP=2 DURATION=3 ;;
	--rounds) ROUNDS=$2; shift ;;
	--duration) DURATION=$2; shift ;;
	--warmup) WARMUP=$2; shift ;;
	--packets) PACKETS=$2; shift ;;
	--core) CORE=$2; shift ;;
	--pmds) PMDS=$2; shift ;;
	--no-hugepages) HUGEPAGES=no ;;
	--scenarios) SCENARIOS=$2; shift ;;
	--no-ceiling) CEILING=0 ;;
	--perf) PERF=1 ;;
	--perf-scenario) PERF=1 PERF_SCENARIO=$2; shift ;;
	--no-ovs) OVS=0 ;;
	--no-build) BUILD=0 ;;
	--no-install) INSTALL=0 ;;
	--switchd) SWITCHD=$2; BUILD=0; shift ;;
	--out) OUT=$2; shift ;;
	-h|--help) usage; exit 0 ;;
	*) echo "unknown option: $1" >&2; usage >&2; exit 2 ;;
	esac
	shift
done

[ -n "$PERF_SCENARIO" ] || PERF_SCENARIO=${SCENARIOS%% *}
case " $SCENARIOS " in *" $PERF_SCENARIO "*) ;; *) echo "--perf-scenario $PERF_SCENARIO is not in --scenarios \"$SCENARIOS\"" >&2; exit 2 ;; esac

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (DPDK and OVS-DPDK need it)"
[ "$(nproc --all)" -ge 2 ] || die "need at least 2 CPUs: one for the switch, one for everything else"
[ "$PMDS" -ge 1 ] && [ "$PMDS" -le "$(nproc --all)" ] || die "--pmds $PMDS: want 1 to $(nproc --all)"
# The switches' cores, as a taskset list and an OVS pmd-cpu-mask, and a core
# for this script and its tools (none when the switches take them all).
CORES="" CORE_MASK=0
for i in $(seq 0 $((PMDS - 1))); do
	c=$(( (CORE + i) % $(nproc --all) ))
	CORES=${CORES:+$CORES,}$c
	CORE_MASK=$(( CORE_MASK | (1 << c) ))
done
OTHER=""
for c in $(seq 0 $(( $(nproc --all) - 1 ))); do
	[ $(( CORE_MASK & (1 << c) )) = 0 ] && { OTHER=$c; break; }
done
# Port 1 with one replaying source, hence one receive queue, per pmd.
rx_devargs() { # rx_devargs PCAP
	local a="net_pcap0" i
	for i in $(seq "$PMDS"); do a="$a,rx_pcap=$1"; done
	echo "$a,infinite_rx=1"
}

# ---------------------------------------------------------------- cleanup
WORK=$(mktemp -d /tmp/goko-ovs-compare.XXXXXX)
if [ -n "$OUT" ]; then
	mkdir -p "$OUT" || die "cannot create $OUT"
	OUT=$(cd "$OUT" && pwd)
else
	OUT=$WORK/out
	mkdir -p "$OUT"
fi
PIDS=()              # processes this script started and has not yet stopped
PREFIXES=()          # DPDK file prefixes this script used
HUGE_MNT=""          # hugetlbfs mount this script made
HUGE_OLD=""          # nr_hugepages before this script raised it

stop_pid() { # stop_pid PID: TERM, then KILL after 5 s; only PIDs we started
	local pid=$1
	kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
	kill -TERM "$pid" 2>/dev/null
	for _ in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	local keep=() p
	for p in "${PIDS[@]}"; do [ "$p" != "$pid" ] && keep+=("$p"); done
	PIDS=("${keep[@]+"${keep[@]}"}")
	return 0
}

remove_prefix() { # remove_prefix P: the DPDK runtime dir of a prefix we used
	[ -n "$1" ] && rm -rf "/var/run/dpdk/$1"
	[ -n "$HUGE_MNT" ] && rm -f "$HUGE_MNT/$1"map_* 2>/dev/null
	return 0
}

cleanup() {
	local rc=$? p
	trap - EXIT INT TERM
	for p in "${PIDS[@]+"${PIDS[@]}"}"; do stop_pid "$p"; done
	for p in "${PREFIXES[@]+"${PREFIXES[@]}"}"; do remove_prefix "$p"; done
	if [ -n "$HUGE_MNT" ]; then
		rm -f "$HUGE_MNT"/* 2>/dev/null
		umount "$HUGE_MNT" 2>/dev/null || log "warning: could not unmount $HUGE_MNT"
		rmdir "$HUGE_MNT" 2>/dev/null
	fi
	[ -n "$HUGE_OLD" ] && echo "$HUGE_OLD" >/proc/sys/vm/nr_hugepages
	rm -rf "$WORK"
	exit $rc
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

# ---------------------------------------------------------------- install
OVS_DPDK=/usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk
need_pkgs() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	[ "$INSTALL" = 1 ] || die "missing packages: ${missing[*]} (run without --no-install)"
	log "installing: ${missing[*]}"
	apt-get update -qq >/dev/null 2>&1
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 ||
		die "apt-get install ${missing[*]} failed"
}
need_pkgs openvswitch-switch-dpdk openvswitch-common libdpdk-dev dpdk pkg-config gcc util-linux iproute2
case " $SCENARIOS " in *" g "*) need_pkgs clang libbpf-dev ;; esac
[ -x "$OVS_DPDK" ] || die "$OVS_DPDK not found after installing openvswitch-switch-dpdk"
command -v go >/dev/null || die "Go is required (expected at /usr/local/go/bin)"

# ---------------------------------------------------------------- build
mkdir -p "$WORK/bin" "$WORK/pcap" "$WORK/run"
if [ -z "$SWITCHD" ]; then
	SWITCHD=$REPO/bin/switchd
	if [ "$BUILD" = 1 ]; then
		log "building goko's switchd"
		if ! (cd "$REPO" && go build -o bin/ ./cmd/switchd) >"$WORK/build.log" 2>&1; then
			[ -x "$SWITCHD" ] || { cat "$WORK/build.log" >&2; die "goko does not build"; }
			log "warning: goko does not build now; using the existing $SWITCHD ($(date -r "$SWITCHD" '+%F %T')):"
			head -5 "$WORK/build.log" >&2
		fi
	fi
fi
[ -x "$SWITCHD" ] || die "no goko binary at $SWITCHD"
GOKO_OFCTL=""
case " $SCENARIOS " in
*" g "*)
	# goko's ofctl loads the filter and installs the rules that match on
	# it (ovs-ofctl knows no filter_prog); the filter is built as
	# examples/bpf/Makefile builds it
	(cd "$REPO" && go build -o "$WORK/bin/ofctl" ./cmd/ofctl) >>"$WORK/build.log" 2>&1 || die "goko's ofctl does not build"
	GOKO_OFCTL=$WORK/bin/ofctl
	clang -O2 -g -Wall -target bpf -I"/usr/include/$(uname -m)-linux-gnu" -I"$REPO/ubpf/include" \
		-c "$REPO/examples/bpf/firewall.c" -o "$WORK/firewall.o" 2>>"$WORK/build.log" || die "examples/bpf/firewall.c does not build"
	;;
esac
(cd "$BENCH_DIR" && go build -o "$WORK/bin/genpcap" ./genpcap) || die "genpcap does not build"
(cd "$BENCH_DIR" && go build -o "$WORK/bin/churn" ./churn) || die "churn does not build"
if [ "$CEILING" = 1 ]; then
	# shellcheck disable=SC2046
	cc -O2 -o "$WORK/bin/iofwd" "$BENCH_DIR/iofwd/iofwd.c" $(pkg-config --cflags --libs libdpdk) \
		2>"$WORK/iofwd-build.log" || { cat "$WORK/iofwd-build.log" >&2; die "iofwd does not build"; }
fi

# goko's mbuf pool holds 16383 mbufs and switchd has no option to change it;
# net_pcap with infinite_rx=1 keeps the whole capture in mbufs of the port's
# pool, so goko cannot open a capture of more than about that many packets.
# Use a flag for it if switchd has grown one, else cap the captures (for both
# switches: the same capture for each).
GOKO_MBUF_ARGS=()
if "$SWITCHD" --help 2>&1 | grep -q -- '--dpdk-mbufs'; then
	GOKO_MBUF_ARGS=(--dpdk-mbufs 131071)
	: "${PACKETS:=40000}"
else
	if [ -z "$PACKETS" ]; then
		PACKETS=10000
		log "note: switchd has no mbuf-pool option (16383 mbufs): captures hold $PACKETS packets, not 40000"
	elif [ "$PACKETS" -gt 15000 ]; then
		log "warning: goko's 16383-mbuf pool cannot hold a $PACKETS-packet capture; goko's port 1 will fail"
	fi
fi

# Keep this script and the tools it runs (ovs-ofctl, ovsdb-server) off the
# measured core from here on.
if [ -n "$OTHER" ]; then
	taskset -pc "$OTHER" $$ >/dev/null
else
	log "note: the switches take every core (--pmds $PMDS): this script and its tools share them"
fi

# ---------------------------------------------------------------- captures and rules
gen() { "$WORK/bin/genpcap" -o "$WORK/pcap/$1.pcap" -n "$PACKETS" "${@:2}" 2>>"$OUT/genpcap.log" || die "genpcap $1"; }
gen u64-10k -flows 10000 -mix 64
gen u64-1k -flows 1000 -mix 64
gen imix-10k -flows 10000 -mix imix
for x in $(seq 0 255); do echo "ip,in_port=1,nw_dst=10.1.$x.0/24 actions=output:2"; done >"$WORK/rules256"
echo "in_port=1 actions=output:2" >"$WORK/rules1"
for x in $(seq 0 255); do echo "ip,in_port=1,nw_dst=10.1.$x.0/24,filter_prog=1 actions=output:2"; done >"$WORK/rules256-fw"

# ---------------------------------------------------------------- memory
EAL_MEM=()           # EAL memory arguments that both switches get
GOKO_MEM=()          # the same, as switchd flags
if [ "$HUGEPAGES" != no ]; then
	pages_needed=$(( (MEM_MB / 2) + 64 ))
	HUGE_OLD=$(cat /proc/sys/vm/nr_hugepages)
	free_now=$(awk '/HugePages_Free/{print $2}' /proc/meminfo)
	if [ "$free_now" -lt "$pages_needed" ]; then
		echo $(( HUGE_OLD + pages_needed - free_now )) >/proc/sys/vm/nr_hugepages 2>/dev/null
	fi
	free_now=$(awk '/HugePages_Free/{print $2}' /proc/meminfo)
	HUGE_MNT=$WORK/huge
	mkdir -p "$HUGE_MNT"
	if [ "$free_now" -ge "$pages_needed" ] && mount -t hugetlbfs -o pagesize=2M nodev "$HUGE_MNT" 2>/dev/null; then
		# IOVA as VA: with IOVA as PA a mempool is made of physically
		# contiguous chunks, and once a long-running machine's hugepages
		# are scattered OVS's needs over 100 of them, whose memzone names
		# overflow ("Failed to create mempool ... File name too long")
		EAL_MEM=(-m "$MEM_MB" --legacy-mem --iova-mode=va --huge-dir="$HUGE_MNT" --huge-unlink)
		GOKO_MEM=(--dpdk-hugepages --dpdk-memory "$MEM_MB" --dpdk-arg --legacy-mem --dpdk-arg --iova-mode=va
			--dpdk-arg --huge-dir="$HUGE_MNT" --dpdk-arg --huge-unlink)
		MEMMODE="2M hugepages (private hugetlbfs mount), -m $MEM_MB --legacy-mem --iova-mode=va"
	else
		rmdir "$HUGE_MNT"; HUGE_MNT=""
		echo "$HUGE_OLD" >/proc/sys/vm/nr_hugepages; HUGE_OLD=""
		[ "$HUGEPAGES" = auto ] || die "cannot reserve hugepages"
		HUGEPAGES=no
		log "note: cannot reserve $pages_needed hugepages; using --no-huge for both"
	fi
fi
if [ "$HUGEPAGES" = no ]; then
	EAL_MEM=(--no-huge -m "$MEM_MB" --legacy-mem)
	GOKO_MEM=(--dpdk-memory "$MEM_MB" --dpdk-arg --legacy-mem)  # switchd adds --no-huge
	MEMMODE="--no-huge -m $MEM_MB --legacy-mem"
fi

# ---------------------------------------------------------------- measuring
RUN_N=0
FAIL="fail fail fail fail"
free_tcp_port() {
	local p
	for _ in $(seq 50); do
		p=$(( 20000 + RANDOM % 20000 ))
		ss -ltn "sport = :$p" 2>/dev/null | grep -q LISTEN || { echo "$p"; return; }
	done
	die "no free TCP port"
}

# counters TARGET: prints "PORT1_RX PORT2_TX" from one dump-ports reply.
counters() {
	(ovs-ofctl -O OpenFlow13 --timeout=5 dump-ports "$1") 2>/dev/null | awk '
		/^ *port +[^ ]+: rx pkts=/ { p = $2; sub(":", "", p); match($0, /rx pkts=[0-9]+/); rx[p] = substr($0, RSTART + 8, RLENGTH - 8) }
		/^ *tx pkts=/ { match($0, /tx pkts=[0-9]+/); tx[p] = substr($0, RSTART + 8, RLENGTH - 8) }
		END { if (rx["1"] == "" || tx["2"] == "") exit 1; print rx["1"], tx["2"] }'
}

# cputicks PID: the CPU time all threads of PID have used, in clock ticks.
cputicks() {
	awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" 2>/dev/null
}
CLK_TCK=$(getconf CLK_TCK)

# measure TARGET PID: waits for traffic, warms up, then prints over the window
# "MPPS RX_MPPS CPU_SHARE MPPS_PER_CPU": the sink's tx rate, port 1's rx
# rate, the share of the window the switch process was on its core, and the
# sink's packets per CPU-second the switch got (its rate with the core to
# itself, as far as other load on the machine only takes time away).
measure() {
	local target=$1 pid=$2 c0 c1 ta tb t0 t1 k0 k1
	for _ in $(seq 50); do  # wait for the sink to count (up to 10 s)
		c0=$(counters "$target") && [ "${c0#* }" -gt 0 ] && break
		sleep 0.2
	done
	[ -n "${c0:-}" ] && [ "${c0#* }" -gt 0 ] || return 1
	sleep "$WARMUP"
	# Each reading is stamped with the middle of the request's round trip.
	ta=$(date +%s.%N); k0=$(cputicks "$pid"); c0=$(counters "$target") || return 1; tb=$(date +%s.%N)
	t0="$ta $tb"
	sleep "$DURATION"
	ta=$(date +%s.%N); k1=$(cputicks "$pid"); c1=$(counters "$target") || return 1; tb=$(date +%s.%N)
	t1="$ta $tb"
	[ -n "$k0" ] && [ -n "$k1" ] || return 1
	awk -v a="$c0" -v b="$c1" -v t0="$t0" -v t1="$t1" -v k="$((k1 - k0))" -v hz="$CLK_TCK" 'BEGIN {
		split(a, x, " "); split(b, y, " "); split(t0, p, " "); split(t1, q, " ")
		d = (q[1] + q[2]) / 2 - (p[1] + p[2]) / 2
		cpu = k / hz; if (cpu <= 0) cpu = 1 / hz
		printf "%.3f %.3f %.3f %.3f\n", (y[2] - x[2]) / d / 1e6, (y[1] - x[1]) / d / 1e6, cpu / d, (y[2] - x[2]) / cpu / 1e6 }'
}

# perf_goko PID SCENARIO: profile goko (its PMD is the busy thread) for a few
# seconds; the flat and the inclusive report and perf.data (for perf
# annotate: `perf annotate -i FILE SYMBOL`) go to the output dir.
perf_goko() {
	local pid=$1 s=$2 data=$OUT/perf-goko-$2.data
	command -v perf >/dev/null || { log "perf not installed; skipping the profile"; return; }
	perf record -o "$data" -g -p "$pid" -- sleep 4 >/dev/null 2>&1 || { log "perf record failed"; return; }
	perf report -i "$data" --no-children --percent-limit 1 --stdio -g none 2>/dev/null |
		grep -v '^#' | grep -v '^$' | head -40 >"$OUT/perf-goko-$s.txt"
	perf report -i "$data" --children --percent-limit 5 --stdio -g none 2>/dev/null |
		grep -v '^#' | grep -v '^$' | head -40 >"$OUT/perf-goko-$s-children.txt"
	log "goko profile of scenario $s: $OUT/perf-goko-$s.txt"
}

# churn_start TARGET LOG: starts the churn client (when CHURN_RATE > 0) on
# the other core; CHURN_PID is its PID, or empty.
CHURN_PID=""
churn_start() {
	CHURN_PID=""
	[ "$CHURN_RATE" -gt 0 ] || return 0
	"$WORK/bin/churn" -target "$1" -rate "$CHURN_RATE" >>"$2" 2>&1 &
	CHURN_PID=$!
	PIDS+=("$CHURN_PID")
}

# churn_stop LOG: stops the churn client and notes its achieved rate.
churn_stop() {
	[ -n "$CHURN_PID" ] || return 0
	kill -0 "$CHURN_PID" 2>/dev/null || log "churn client exited early: $(tail -1 "$1")"
	stop_pid "$CHURN_PID"
	CHURN_PID=""
	grep '^churn:' "$1" | tail -1 >&2
}

# install_rules TARGET RULES LOG: replaces the switch's rules with the file's
# and checks that it holds them all. Rules files ending in -fw match on
# filter_prog=1: the firewall is loaded first and goko's ofctl installs them.
install_rules() {
	local target=$1 file=$WORK/$2 logf=$3 n want
	want=$(wc -l <"$file")
	case $2 in
	*-fw)
		"$GOKO_OFCTL" load-filter-prog "$target" 1 "$WORK/firewall.o" >>"$logf" 2>&1 &&
			"$GOKO_OFCTL" del-flows "$target" >>"$logf" 2>&1 &&
			"$GOKO_OFCTL" add-flows "$target" "$file" >>"$logf" 2>&1 ||
			{ log "installing $2 failed:"; tail -3 "$logf" >&2; return 1; }
		n=$("$GOKO_OFCTL" dump-flows "$target" 2>>"$logf" | grep -c 'filter_prog=1')
		[ "$n" = "$want" ] && return 0
		log "expected $want filter rules, the switch holds $n:"
		tail -3 "$logf" >&2
		return 1
		;;
	esac
	ovs-ofctl -O OpenFlow13 --timeout=20 del-flows "$target" >>"$logf" 2>&1 &&
		ovs-ofctl -O OpenFlow13 --timeout=20 add-flows "$target" "$file" >>"$logf" 2>&1 ||
		{ log "installing $2 failed:"; tail -3 "$logf" >&2; return 1; }
	for _ in 1 2 3; do
		n=$( (ovs-ofctl -O OpenFlow13 --timeout=20 dump-flows "$target" 2>>"$logf") 2>/dev/null | grep -c 'actions=')
		[ "$n" = "$want" ] && return 0
		sleep 1
	done
	log "expected $want rules, the switch holds $n:"
	tail -3 "$logf" >&2
	return 1
}

# run_goko PCAP RULES [SCENARIO]: sets RES to measure's four figures or $FAIL.
run_goko() {
	local pcap=$1 rules=$2 port prefix dir pid target ok=0
	RUN_N=$((RUN_N + 1))
	port=$(free_tcp_port)
	prefix=gokobench-$$-$RUN_N
	dir=$WORK/run/goko-$RUN_N
	mkdir -p "$dir"
	PREFIXES+=("$prefix")
	GOMAXPROCS=$((PMDS + 1)) taskset -c "$CORES" "$SWITCHD" --bridge br0 --datapath-id 0x1 --pmds "$PMDS" \
		--port "1=dpdk:$(rx_devargs "$WORK/pcap/$pcap.pcap")" \
		--port 2=dpdk:net_null0,no-rx=1 \
		--listen "ptcp:$port:127.0.0.1" --dpdk-file-prefix "$prefix" \
		"${GOKO_MEM[@]}" "${GOKO_MBUF_ARGS[@]+"${GOKO_MBUF_ARGS[@]}"}" \
		--run-dir "$dir" --log-level warn >"$dir/switchd.log" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	target=tcp:127.0.0.1:$port
	RES="$FAIL"
	local deadline=$((SECONDS + 30))
	while [ $SECONDS -lt $deadline ]; do  # up to 30 s for both ports
		kill -0 "$pid" 2>/dev/null || break
		# (a subshell, so that an ovs-ofctl ended by its own --timeout alarm
		# does not make bash print "Alarm clock")
		if (ovs-ofctl -O OpenFlow13 --timeout=5 dump-ports-desc "$target" >"$dir/ports") 2>/dev/null; then
			grep -q '^ *1(' "$dir/ports" && grep -q '^ *2(' "$dir/ports" && { ok=1; break; }
		fi
		sleep 0.2
	done
	if [ $ok = 0 ]; then
		log "goko did not come up with ports 1 and 2; its log:"
		tail -5 "$dir/switchd.log" >&2
	elif install_rules "$target" "$rules" "$dir/ofctl.log"; then
		if [ -n "${3:-}" ]; then
			sleep "$WARMUP"; perf_goko "$pid" "$3"
		fi
		churn_start "$target" "$dir/churn.log"
		RES=$(measure "$target" "$pid") || RES="$FAIL"
		churn_stop "$dir/churn.log"
		kill -0 "$pid" 2>/dev/null || { log "goko exited during the run; its log:"; tail -5 "$dir/switchd.log" >&2; RES="$FAIL"; }
	fi
	cat "$dir/switchd.log" "$dir/ofctl.log" "$dir/churn.log" >"$OUT/goko-$RUN_N.log" 2>/dev/null
	stop_pid "$pid"
	remove_prefix "$prefix"
	rm -rf "$dir"
	[ "$RES" != "$FAIL" ]
}

# run_ovs PCAP RULES EMC(on|off): sets RES to measure's four figures or $FAIL.
run_ovs() {
	local pcap=$1 rules=$2 emc=$3 prefix dir dbpid vspid res
	RUN_N=$((RUN_N + 1))
	prefix=ovsbench-$$-$RUN_N
	dir=$WORK/run/ovs-$RUN_N
	mkdir -p "$dir"/{run,db,log,etc}
	PREFIXES+=("$prefix")
	(
		export OVS_RUNDIR=$dir/run OVS_DBDIR=$dir/db OVS_LOGDIR=$dir/log OVS_SYSCONFDIR=$dir/etc
		ovsdb-tool create "$dir/db/conf.db" /usr/share/openvswitch/vswitch.ovsschema
	) >>"$dir/log/vsctl.log" 2>&1 || { RES="$FAIL"; return 1; }
	OVS_RUNDIR=$dir/run OVS_DBDIR=$dir/db OVS_LOGDIR=$dir/log OVS_SYSCONFDIR=$dir/etc \
		ovsdb-server "$dir/db/conf.db" --remote="punix:$dir/run/db.sock" \
		--unixctl="$dir/run/ovsdb-server.ctl" --log-file="$dir/log/ovsdb-server.log" \
		>/dev/null 2>&1 &
	dbpid=$!
	PIDS+=("$dbpid")
	local vsctl=(ovs-vsctl --db="unix:$dir/run/db.sock" --timeout=30)
	for _ in $(seq 50); do [ -S "$dir/run/db.sock" ] && break; sleep 0.1; done
	local inv=0
	[ "$emc" = on ] && inv=100
	"${vsctl[@]}" --no-wait init >>"$dir/log/vsctl.log" 2>&1 &&
		"${vsctl[@]}" --no-wait set Open_vSwitch . other_config:dpdk-init=true \
			"other_config:dpdk-extra=${EAL_MEM[*]} --no-pci --file-prefix=$prefix" \
			other_config:pmd-cpu-mask="$(printf '0x%x' "$CORE_MASK")" \
			other_config:emc-insert-inv-prob=$inv >>"$dir/log/vsctl.log" 2>&1 || { stop_pid "$dbpid"; RES="$FAIL"; return 1; }
	OVS_RUNDIR=$dir/run OVS_DBDIR=$dir/db OVS_LOGDIR=$dir/log OVS_SYSCONFDIR=$dir/etc \
		taskset -c "$CORES" "$OVS_DPDK" "unix:$dir/run/db.sock" \
		--unixctl="$dir/run/ovs-vswitchd.ctl" --log-file="$dir/log/ovs-vswitchd.log" \
		>/dev/null 2>&1 &
	vspid=$!
	PIDS+=("$vspid")
	local ok=0
	# (subshells: an ovs-vsctl ended by its --timeout makes no "Alarm clock")
	if ("${vsctl[@]}" add-br br0 -- set bridge br0 datapath_type=netdev) >>"$dir/log/vsctl.log" 2>&1; then
		("${vsctl[@]}" add-port br0 p1 -- set Interface p1 type=dpdk ofport_request=1 \
			"options:dpdk-devargs=$(rx_devargs "$WORK/pcap/$pcap.pcap")" options:n_rxq="$PMDS") >>"$dir/log/vsctl.log" 2>&1
		("${vsctl[@]}" add-port br0 p2 -- set Interface p2 type=dpdk ofport_request=2 \
			"options:dpdk-devargs=net_null0,no-rx=1") >>"$dir/log/vsctl.log" 2>&1
		for _ in $(seq 50); do
			[ "$("${vsctl[@]}" get Interface p1 ofport 2>/dev/null)" = 1 ] &&
				[ "$("${vsctl[@]}" get Interface p2 ofport 2>/dev/null)" = 2 ] && { ok=1; break; }
			sleep 0.2
		done
	fi
	local target=unix:$dir/run/br0.mgmt
	if [ $ok = 1 ]; then
		install_rules "$target" "$rules" "$dir/log/ofctl.log" || ok=0
	else
		log "OVS did not come up with ports 1 and 2; its log:"
		grep -E 'ERR|WARN' "$dir/log/ovs-vswitchd.log" | tail -5 >&2
	fi
	if [ $ok = 1 ]; then
		local appctl=(ovs-appctl -t "$dir/run/ovs-vswitchd.ctl")
		"${appctl[@]}" dpif-netdev/pmd-stats-clear >/dev/null 2>&1
		churn_start "$target" "$dir/log/churn.log"
		res=$(measure "$target" "$vspid") || res="$FAIL"
		churn_stop "$dir/log/churn.log"
		# What OVS's PMD did since the rules went in, and its megaflows.
		{
			"${appctl[@]}" dpif-netdev/pmd-stats-show
			echo "--- megaflows (first 5)"
			"${appctl[@]}" dpctl/dump-flows -m | head -6
		} >"$OUT/ovs-$RUN_N-pmd-stats.txt" 2>&1
	else
		res="$FAIL"
	fi
	cat "$dir/log/vsctl.log" "$dir/log/ovs-vswitchd.log" "$dir/log/ofctl.log" "$dir/log/churn.log" >"$OUT/ovs-$RUN_N.log" 2>/dev/null
	stop_pid "$vspid"
	stop_pid "$dbpid"
	remove_prefix "$prefix"
	rm -rf "$dir"
	RES=$res
}

# run_iofwd PCAP: sets RES as measure would, or $FAIL.
run_iofwd() {
	local pcap=$1 prefix out pid
	RUN_N=$((RUN_N + 1))
	prefix=iofwdbench-$$-$RUN_N
	PREFIXES+=("$prefix")
	taskset -c "$CORE" "$WORK/bin/iofwd" -l "$CORE" "${EAL_MEM[@]}" --no-pci --no-telemetry \
		--file-prefix="$prefix" --log-level='*:4' \
		"--vdev=net_pcap0,rx_pcap=$WORK/pcap/$pcap.pcap,infinite_rx=1" --vdev=net_null0,no-rx=1 \
		-- --warmup "$WARMUP" --duration "$DURATION" --mbufs 131071 >"$WORK/run/iofwd.out" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	wait "$pid"
	stop_pid "$pid"
	remove_prefix "$prefix"
	out=$(grep '^iofwd:' "$WORK/run/iofwd.out") || { tail -3 "$WORK/run/iofwd.out" >&2; RES="$FAIL"; return 1; }
	RES=$(echo "$out" | sed -E 's/.*mpps=([0-9.]+) cpu_share=([0-9.]+) mpps_per_cpu=([0-9.]+).*/\1 \1 \2 \3/')
}

# ---------------------------------------------------------------- the runs
RAW=$OUT/raw.txt     # round row switch mpps rx_mpps cpu_share mpps_per_cpu loadavg-1min
: >"$RAW"
record() { # record ROUND ROW SWITCH "FIGURES"
	local load
	load=$(cut -d' ' -f1 /proc/loadavg)
	echo "$1 $2 $3 $4 $load" >>"$RAW"
	log "round $1  $(printf '%-10s %-6s' "$2" "$3") $(echo "$4" | awk '{ if ($1 == "fail") print "FAILED"; else printf "%6.2f Mpps (port 1 rx %.2f), on its core %3.0f%% of the time: %6.2f Mpps per CPU-second", $1, $2, $3 * 100, $4 }')  load $load"
}

scenario_rows() { # scenario -> the table rows it fills
	case $1 in
	a) echo "a-emc-off a-emc-on" ;;
	g) echo "g g-nofilter" ;;
	*) echo "$1" ;;
	esac
}

cp_last_ovs() { # cp_last_ovs FROM TO: OVS's last figures of row FROM count for row TO too
	awk -v f="$1" -v t="$2" '$2 == f && $3 == "ovs" { l = $0 } END { if (l != "") { sub(" " f " ", " " t " ", l); print l } }' "$RAW" >>"$RAW"
}

START=$(date +%s)
log "goko:      $SWITCHD (GOMAXPROCS=$((PMDS + 1)), --pmds $PMDS, whole process on CPU $CORES)"
log "OVS-DPDK:  $OVS_DPDK $(ovs-vsctl --version | head -1 | awk '{print $NF}') (whole process on CPU $CORES, pmd-cpu-mask $(printf '0x%x' "$CORE_MASK"), n_rxq $PMDS)"
log "memory:    $MEMMODE (both)"
log "captures:  $PACKETS packets each; rounds $ROUNDS, warm-up ${WARMUP}s, window ${DURATION}s"
log "load average before: $(cut -d' ' -f1-3 /proc/loadavg) (other work on this machine skews the figures)"

for r in $(seq "$ROUNDS"); do
	for s in $SCENARIOS; do
		case $s in
		a) pcap=u64-10k rules=rules256 CHURN_RATE=0 ;;
		b) pcap=u64-1k rules=rules256 CHURN_RATE=0 ;;
		c) pcap=u64-10k rules=rules1 CHURN_RATE=0 ;;
		d) pcap=imix-10k rules=rules256 CHURN_RATE=0 ;;
		e) pcap=u64-10k rules=rules256 CHURN_RATE=100 ;;
		f) pcap=u64-10k rules=rules256 CHURN_RATE=1000 ;;
		g) pcap=u64-10k rules=rules256-fw CHURN_RATE=0 ;;
		*) die "unknown scenario $s" ;;
		esac
		perf=""
		[ "$PERF" = 1 ] && [ "$r" = 1 ] && [ "$s" = "$PERF_SCENARIO" ] && perf=$s
		goko_run() {
			# e, f: the same rules without churn first, seconds before,
			# so that the rate kept pairs two windows of the same state
			# of the host (its slow mode comes and goes over minutes)
			case $s in e|f)
				local rate=$CHURN_RATE
				CHURN_RATE=0 run_goko $pcap $rules; record "$r" "$s-quiet" goko "$RES"
				CHURN_RATE=$rate ;;
			esac
			run_goko $pcap $rules $perf; record "$r" "$s" goko "$RES"
			# g: goko without the filter too, right after
			if [ "$s" = g ]; then run_goko $pcap rules256; record "$r" g-nofilter goko "$RES"; fi
		}
		ovs_run() {
			[ "$OVS" = 1 ] || return 0
			case $s in
			a) run_ovs $pcap $rules off; record "$r" a-emc-off ovs "$RES"
			   run_ovs $pcap $rules on; record "$r" a-emc-on ovs "$RES" ;;
			b) run_ovs $pcap $rules on; record "$r" b ovs "$RES" ;;
			c) run_ovs $pcap $rules on; record "$r" c ovs "$RES" ;;
			d) run_ovs $pcap $rules off; record "$r" "$s" ovs "$RES" ;;
			e|f) local rate=$CHURN_RATE
			   CHURN_RATE=0 run_ovs $pcap $rules off; record "$r" "$s-quiet" ovs "$RES"
			   CHURN_RATE=$rate run_ovs $pcap $rules off; record "$r" "$s" ovs "$RES" ;;
			g) run_ovs $pcap rules256 off; record "$r" g ovs "$RES"
			   cp_last_ovs g g-nofilter ;;
			esac
		}
		if [ $((r % 2)) = 1 ]; then goko_run; ovs_run; else ovs_run; goko_run; fi
	done
	if [ "$CEILING" = 1 ]; then
		run_iofwd u64-10k; record "$r" io-64 iofwd "$RES"
		case " $SCENARIOS " in *" d "*) run_iofwd imix-10k; record "$r" io-imix iofwd "$RES" ;; esac
	fi
done

# ---------------------------------------------------------------- the table
median() { # median ROW SWITCH FIELD: median of the successful runs, or "-"
	awk -v s="$1" -v w="$2" -v f="$3" '$2 == s && $3 == w && $4 != "fail" { v[n++] = $f + 0 }
		END { if (n == 0) { print "-"; exit }
		      for (i = 0; i < n; i++) for (j = i + 1; j < n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
		      if (n % 2) m = v[int(n / 2)]; else m = (v[n / 2 - 1] + v[n / 2]) / 2
		      printf "%.2f", m }' "$RAW"
}
spread() { # spread ROW SWITCH FIELD: min-max of the successful runs
	awk -v s="$1" -v w="$2" -v f="$3" '$2 == s && $3 == w && $4 != "fail" { x = $f + 0; if (n++ == 0 || x < lo) lo = x; if (x > hi) hi = x }
		END { if (n) printf "%.2f-%.2f", lo, hi; else print "-" }' "$RAW"
}
cell() { # cell ROW SWITCH FIELD: the median, with the spread when there are rounds
	local m
	m=$(median "$@")
	if [ "$ROUNDS" -gt 1 ] && [ "$m" != - ]; then echo "$m ($(spread "$@"))"; else echo "$m"; fi
}
ratio() { awk -v g="$1" -v o="$2" 'BEGIN { if (g == "-" || o == "-" || o == 0) print "-"; else printf "%.2f", g / o }'; }
# rratio ROW1 SWITCH1 ROW2 SWITCH2 FIELD: the median over rounds of ROW1's
# figure over ROW2's in the same round, and the per-round ratios. Rows run
# seconds apart within a round, so this is robust to the host's slow mode,
# which comes and goes over minutes (a ratio of medians can pair a slow
# window of one row with a quick one of the other).
rratio() {
	awk -v r1="$1" -v w1="$2" -v r2="$3" -v w2="$4" -v f="$5" '
		$4 != "fail" && $2 == r1 && $3 == w1 { a[$1] = $f + 0 }
		$4 != "fail" && $2 == r2 && $3 == w2 { b[$1] = $f + 0 }
		END {
			for (k in a) if ((k in b) && b[k] > 0) { v[n++] = a[k] / b[k]; r[k] = a[k] / b[k] }
			if (n == 0) { print "-"; exit }
			for (i = 0; i < n; i++) for (j = i + 1; j < n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
			if (n % 2) m = v[int(n / 2)]; else m = (v[n / 2 - 1] + v[n / 2]) / 2
			s = ""
			for (k = 1; k <= 99; k++) if (k in r) s = s (s == "" ? "" : ", ") sprintf("%.2f", r[k])
			printf "%.2f (rounds: %s)", m, s
		}' "$RAW"
}
describe() {
	case $1 in
	a-emc-off) echo "(a) 256 x nw_dst/24, 10k flows, 64 B; OVS EMC off" ;;
	a-emc-on) echo "(a) 256 x nw_dst/24, 10k flows, 64 B; OVS EMC on" ;;
	b) echo "(b) 256 x nw_dst/24, 1k flows, 64 B; OVS EMC on" ;;
	c) echo "(c) 1 rule in_port=1, 10k flows, 64 B" ;;
	d) echo "(d) 256 x nw_dst/24, 10k flows, IMIX; OVS EMC off" ;;
	e) echo "(e) (a) + 100 unrelated flow-mods/s; OVS EMC off" ;;
	f) echo "(f) (a) + 1000 unrelated flow-mods/s; OVS EMC off" ;;
	g) echo "(g) (a) + filter_prog=1 (firewall) on goko; OVS none" ;;
	g-nofilter) echo "(g) the same without the filter; OVS EMC off" ;;
	io-64) echo "I/O ceiling: iofwd (testpmd io), 64 B" ;;
	io-imix) echo "I/O ceiling: iofwd (testpmd io), IMIX" ;;
	esac
}
{
	echo
	echo "goko vs OVS-DPDK $(date '+%F %H:%M'), $(uname -n), $(nproc --all) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'))"
	echo "both pinned to CPU $CORES with $PMDS pmd(s); $MEMMODE; net_pcap ($PACKETS-packet capture, infinite_rx, $PMDS source(s)) -> net_null"
	echo "medians of $ROUNDS interleaved round(s), ${DURATION}s windows after ${WARMUP}s warm-up; Mpps = sink port tx"
	echo
	row_fmt='| %-50s | %-19s | %-19s | %-8s | %-19s | %-19s | %-8s |\n'
	printf "$row_fmt" "scenario" "goko Mpps" "OVS-DPDK Mpps" "goko/OVS" "goko per CPU-s" "OVS per CPU-s" "goko/OVS"
	local_dash() { printf -- '-%.0s' $(seq "$1"); }
	printf "$row_fmt" "$(local_dash 50)" "$(local_dash 19)" "$(local_dash 19)" "$(local_dash 8)" \
		"$(local_dash 19)" "$(local_dash 19)" "$(local_dash 8)"
	for s in $SCENARIOS; do
		for row in $(scenario_rows "$s"); do
			g=$s
			[ "$row" = g-nofilter ] && g=g-nofilter
			printf "$row_fmt" "$(describe "$row")" \
				"$(cell "$g" goko 4)" "$(cell "$row" ovs 4)" "$(ratio "$(median "$g" goko 4)" "$(median "$row" ovs 4)")" \
				"$(cell "$g" goko 7)" "$(cell "$row" ovs 7)" "$(ratio "$(median "$g" goko 7)" "$(median "$row" ovs 7)")"
		done
	done
	if [ "$CEILING" = 1 ]; then
		for row in io-64 io-imix; do
			grep -q " $row " "$RAW" || continue
			printf "$row_fmt" "$(describe "$row")" "$(cell "$row" iofwd 4)" "" "" "$(cell "$row" iofwd 7)" "" ""
		done
	fi
	echo
	echo "Mpps: the sink's tx counter over the window. Per CPU-s: the same packets divided by the CPU time the"
	echo "switch process got in the window (utime+stime of all its threads; 1.0 s per s when nothing else runs"
	echo "on CPU $CORES; with N pmds, N s per s): the rate per core it had. Median CPU share in the window:"
	for s in $SCENARIOS; do
		for row in $(scenario_rows "$s"); do
			g=$s
			[ "$row" = g-nofilter ] && g=g-nofilter
			printf '  %-50s goko %s, OVS %s\n' "$(describe "$row")" "$(median "$g" goko 6)" "$(median "$row" ovs 6)"
		done
	done
	for s in e f; do
		case " $SCENARIOS " in *" $s "*) ;; *) continue ;; esac
		printf '  churn %s: per CPU-s, goko keeps %s of its rate without churn just before (paired by round), OVS %s\n' \
			"$s" "$(rratio "$s" goko "$s-quiet" goko 7)" "$(rratio "$s" ovs "$s-quiet" ovs 7)"
		case " $SCENARIOS " in *" a "*) ;; *) continue ;; esac
		printf '    of its (a) rate (medians, minutes apart): goko %s, OVS %s (of a, EMC off)\n' \
			"$(ratio "$(median "$s" goko 7)" "$(median a goko 7)")" "$(ratio "$(median "$s" ovs 7)" "$(median a-emc-off ovs 7)")"
	done
	case " $SCENARIOS " in *" g "*)
		printf '  filter (g): goko with the filter on every rule keeps %s of its rate without it (Mpps), %s per CPU-s\n' \
			"$(ratio "$(median g goko 4)" "$(median g-nofilter goko 4)")" "$(ratio "$(median g goko 7)" "$(median g-nofilter goko 7)")"
		printf '    paired by round (per CPU-s): %s\n' "$(rratio g goko g-nofilter goko 7)"
		;;
	esac
	echo "  goko/OVS per CPU-s paired by round (each round runs a row's switches seconds apart):"
	for s in $SCENARIOS; do
		for row in $(scenario_rows "$s"); do
			g=$s
			[ "$row" = g-nofilter ] && g=g-nofilter
			printf '    %-50s %s\n' "$(describe "$row")" "$(rratio "$g" goko "$row" ovs 7)"
		done
	done
	echo
	echo "total time $(( $(date +%s) - START ))s; load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$OUT/table.txt"
if [ "$OUT" != "$WORK/out" ]; then
	log "logs, raw figures and the table: $OUT"
fi
