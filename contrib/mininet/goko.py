"""Mininet switch class for goko.

    mn --custom contrib/mininet/goko.py --switch goko --topo tree,depth=2 \\
       --controller remote

runs one goko switchd per Mininet switch, with the switch's Mininet veths as
its ports (OpenFlow port numbers as Mininet numbers them), its datapath id
derived from its name as Mininet does (s3 -> 3), and every controller
Mininet was given as an active controller. Each switch's management socket
is RUNDIR/NAME.mgmt, so `ofctl dump-flows s1` (and `ofctl --run-dir RUNDIR`
for another directory) reaches it while the network runs.

Parameters (--switch goko,NAME=VALUE,...):
    switchd   the switchd binary (default: "switchd" in PATH, else bin/switchd
              of the current directory, a goko checkout)
    rundir    directory of the management sockets (default $GOKO_RUN_DIR, else
              /run/goko, where ofctl looks too)
    dpdkmem   DPDK memory per switch in MB (default 256)
    loglevel  switchd's --log-level (default info; ofctl set-log-level
              changes it later)
    args      extra switchd arguments, space-separated

switchd logs to RUNDIR/NAME-switchd.log. goko switches have no kernel
datapath: ports are opened with DPDK's af_packet driver, so TCP between
hosts needs checksum offload off on their interfaces; this class turns it
off on the host side of every link (ethtool -K IF tx off).
"""

import os
import shutil
import time

from mininet.log import error, info
from mininet.node import Switch


def _default_switchd():
    "switchd in PATH, else bin/switchd of the checkout mn runs from."
    return shutil.which('switchd') or os.path.abspath(os.path.join('bin', 'switchd'))


class GokoSwitch(Switch):
    """A goko switchd per Mininet switch."""

    dpidLen = 16

    def __init__(self, name, switchd=None, rundir=None, dpdkmem=256,
                 loglevel='info', args='', **params):
        Switch.__init__(self, name, **params)
        self.switchd = switchd or _default_switchd()
        # The run directory ofctl looks in, as ofctl does.
        self.rundir = rundir or os.environ.get('GOKO_RUN_DIR') or '/run/goko'
        self.dpdkmem = int(dpdkmem)
        self.loglevel = loglevel
        self.extra = args.split()
        self.logfile = os.path.join(self.rundir, '%s-switchd.log' % name)
        self.switchdPid = None

    def mgmtSocket(self):
        "The switch's management socket."
        return os.path.join(self.rundir, self.name + '.mgmt')

    def start(self, controllers):
        "Start switchd on the switch's interfaces and wait for it to listen."
        if not os.access(self.switchd, os.X_OK):
            error('*** goko: %s is not an executable switchd (make build, or '
                  '--switch goko,switchd=PATH)\n' % self.switchd)
            return
        cmd = [self.switchd, '--bridge', self.name,
               '--datapath-id', '0x' + self.dpid,
               '--run-dir', self.rundir,
               '--log-level', self.loglevel,
               '--dpdk-memory', str(self.dpdkmem)]
        for intf in self.intfList():
            if intf.name == 'lo' or self.ports.get(intf) is None:
                continue
            cmd += ['--port', '%d=%s' % (self.ports[intf], intf.name)]
            self._offloadOff(intf)
        for c in controllers:
            cmd += ['--controller', 'tcp:%s:%d' % (c.IP(), c.port or 6653)]
        if self.listenPort:
            cmd += ['--listen', 'ptcp:%d:127.0.0.1' % self.listenPort]
        cmd += self.extra
        os.makedirs(self.rundir, exist_ok=True)
        out = self.cmd(' '.join(cmd) + ' > %s 2>&1 & echo $!' % self.logfile)
        self.switchdPid = int(out.strip().split()[-1])
        deadline = time.time() + 20
        while not os.path.exists(self.mgmtSocket()):
            if time.time() > deadline or not self._running():
                error('*** goko: switchd for %s did not start; see %s\n' % (self.name, self.logfile))
                return
            time.sleep(0.1)

    def _offloadOff(self, intf):
        "Turn checksum offload off on the other end of intf's link."
        link = intf.link
        if link is None:
            return
        peer = link.intf2 if link.intf1 is intf else link.intf1
        peer.node.cmd('ethtool -K %s tx off > /dev/null 2>&1' % peer.name)

    def _running(self):
        return self.switchdPid is not None and os.path.exists('/proc/%d' % self.switchdPid)

    def connected(self):
        "Is switchd connected to a controller? (its log says so)"
        try:
            with open(self.logfile) as f:
                return 'connected to controller' in f.read()
        except OSError:
            return False

    def stop(self, deleteIntfs=True):
        "Stop switchd (it frees its ports and DPDK state) and wait for it."
        if self._running():
            self.cmd('kill -TERM %d' % self.switchdPid)
            deadline = time.time() + 15
            while self._running() and time.time() < deadline:
                time.sleep(0.1)
            if self._running():
                info('*** goko: switchd for %s did not stop; killing it\n' % self.name)
                self.cmd('kill -KILL %d' % self.switchdPid)
        self.switchdPid = None
        Switch.stop(self, deleteIntfs)


switches = {'goko': GokoSwitch}
