"""Turns the log of os-ken's switch tester into one line per case.

usage: of13_results.py OSKEN_LOG RESULTS_TSV

The tester logs a case file's description ("match: 03_ETH_DST") before its
first case, then one line per case: four spaces, the case's description
padded to 100 characters, a space, and OK or ERROR; an ERROR line is
followed by the reason, indented by eight spaces. of13_py3.py adds an
"offered: ..." line before each throughput case's result. RESULTS_TSV gets
category, file, case, result, reason and the offered rate, tab-separated;
the summary (cases and passes per category, then failures per reason) goes
to stdout.
"""

import collections
import re
import sys

CASE = re.compile(r'^    (\S.*?) +(OK|ERROR)$')
REASON = re.compile(r'^        (\S.*)$')
OFFERED = re.compile(r'^        offered: (.*)$')
FILE = re.compile(r'^(match|action|group|meter)\b.*:')


def parse(lines):
    cases = []
    current = ''
    offered = ''
    for line in lines:
        line = line.rstrip('\n')
        m = OFFERED.match(line)
        if m:
            offered = m.group(1)
            continue
        m = CASE.match(line)
        if m:
            cases.append([current, m.group(1), m.group(2), '', offered])
            offered = ''
            continue
        m = REASON.match(line)
        if m and cases and cases[-1][2] == 'ERROR' and not cases[-1][3]:
            cases[-1][3] = m.group(1)
            continue
        if FILE.match(line) and '-->' not in line:
            current = line.strip()
    return cases


def main():
    with open(sys.argv[1], errors='replace') as f:
        cases = parse(f)
    per = collections.OrderedDict()
    reasons = collections.Counter()
    with open(sys.argv[2], 'w') as out:
        for file, case, result, reason, offered in cases:
            cat = file.split(':', 1)[0] or '?'
            out.write('\t'.join([cat, file, case, result, reason, offered]) + '\n')
            n = per.setdefault(cat, [0, 0])
            n[0] += 1
            if result == 'OK':
                n[1] += 1
            else:
                # The reason without the per-case packet dump or rates.
                reasons[re.sub(r'(: ).*', r'\1...', reason, count=1)
                        if reason.startswith('Received ') else
                        reason] += 1
    total = [sum(n[0] for n in per.values()), sum(n[1] for n in per.values())]
    for cat, (n, ok) in per.items():
        print('%-8s %4d of %4d passed' % (cat, ok, n))
    print('%-8s %4d of %4d passed' % ('total', total[1], total[0]))
    if reasons:
        print('failures by reason:')
        for reason, n in reasons.most_common():
            print('  %4d  %s' % (n, reason[:160]))


if __name__ == '__main__':
    main()
