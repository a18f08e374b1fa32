#!/usr/bin/env python3
"""insn-per-packet: instructions per packet of a Go benchmark, per function.

Runs a per-packet benchmark (one whose b.N counts packets and whose
per-packet work does not depend on wall-clock time, such as
`go test -bench PMD ./datapath/`) under cachegrind twice, with b.N = N1 and
N2, and prints (instructions at N2 - instructions at N1) / (N2 - N1) per
function: setup and warm-up cancel, and the figures repeat to within an
instruction from run to run, where wall-clock time on a shared or noisy
machine swings by 10% or more. JIT code shows as "???".

Instructions are not time (cache misses are not in them), so use this to
see what a change adds or removes, and a timed benchmark or
bench/ovs-compare.sh to see what it is worth.

Usage (needs valgrind):
    go test -c -o /tmp/dp.test ./datapath/
    bench/insn-per-packet.py /tmp/dp.test 'PMD/megaflow-only/flows=10000$' [--dir datapath] [--top 12]

Compare two builds by running it on each build's test binary.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

LINE = re.compile(r'\s*([\d,]+)\s+\([\s\d.]+%\)\s+(\S+)$')


def per_function(binary, bench, n, cwd):
    with tempfile.NamedTemporaryFile(prefix='cg.', delete=False) as tmp:
        out = tmp.name
    try:
        env = dict(os.environ, GODEBUG='cpu.rdtscp=off')  # valgrind lacks RDTSCP
        r = subprocess.run(['valgrind', '--tool=cachegrind', '--cache-sim=no',
                            '--cachegrind-out-file=' + out, binary, '-test.run', 'X',
                            '-test.bench', bench, '-test.benchtime', '%dx' % n],
                           cwd=cwd, env=env, capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit('%s failed:\n%s' % (binary, r.stderr[-2000:]))
        a = subprocess.run(['cg_annotate', '--threshold=0', out],
                           capture_output=True, text=True, check=True).stdout
    finally:
        os.remove(out)
    fn = {}
    for line in a.splitlines():
        m = LINE.match(line)
        if m:
            name = m.group(2).split(':', 1)[-1]
            fn[name] = fn.get(name, 0) + int(m.group(1).replace(',', ''))
    return fn


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('binary', help='a test binary (go test -c)')
    ap.add_argument('bench', help='-test.bench pattern naming exactly one benchmark')
    ap.add_argument('--dir', default='.', help='directory to run it in (its package)')
    ap.add_argument('--n1', type=int, default=500000)
    ap.add_argument('--n2', type=int, default=2500000)
    ap.add_argument('--top', type=int, default=12, help='functions to list')
    o = ap.parse_args()
    runs = [per_function(os.path.abspath(o.binary), o.bench, n, o.dir) for n in (o.n1, o.n2)]
    dn = o.n2 - o.n1
    diff = {k: (runs[1].get(k, 0) - runs[0].get(k, 0)) / dn for k in set(runs[0]) | set(runs[1])}
    goko = sum(v for k, v in diff.items() if 'goko' in k or '???' in k)
    print('%s %s: %.0f instructions per packet in goko code (and JIT code), %.0f in all'
          % (os.path.basename(o.binary), o.bench, goko, sum(diff.values())))
    for k, v in sorted(diff.items(), key=lambda kv: -kv[1])[:o.top]:
        if abs(v) >= 0.5:
            print('  %7.1f  %s' % (v, k))


if __name__ == '__main__':
    main()
