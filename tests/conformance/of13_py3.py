"""Lets os-ken's switch tester read the public OF1.3 case files on Python 3.

The case files were written for Ryu on Python 2, where a packet's payload
such as "'\\x01\\x02'" or "str('\\x11' * 1446)" was a byte string. On
Python 3 those are text, and os-ken's Packet.serialize fails on them
("string argument without an encoding"), so every case with a payload would
be reported as a file format error. Loaded as an os-ken app before
os_ken.tests.switch.tester, this module makes Packet.serialize take such
text as the bytes it spells (each character one byte, as Latin-1 maps
them), which is what the cases meant; so do a TCP header's raw options, an
ICMP message's data and an SCTP DATA chunk's user data. It also
replaces os-ken's SCTP checksum, which is wrong on Python 3
(_sctp_checksum).
With OF13_PACING=clock it also paces the tester's continuous sending by the
clock (see _pace_by_clock). For throughput cases it logs the rate the
tester actually offered (_log_offered_load).
"""

import os

from os_ken.base import app_manager
from os_ken.lib.packet import icmp
from os_ken.lib.packet import packet
from os_ken.lib.packet import sctp
from os_ken.lib.packet import tcp

_serialize = packet.Packet.serialize


def _bytes(v):
    return v.encode('latin-1') if isinstance(v, str) else v


def _serialize_py2_payloads(self):
    self.protocols = [_bytes(p) for p in self.protocols]
    for p in self.protocols:
        # tcp(option='\x00\x00\x00\x00'): raw option bytes, as text.
        if isinstance(p, tcp.tcp):
            p.option = _bytes(p.option)
        # icmp(data=echo(data='0123...')), dest_unreach(data=...): the
        # message body's data.
        if isinstance(p, icmp.icmp) and hasattr(p.data, 'data'):
            p.data.data = _bytes(p.data.data)
        # sctp(chunks=[chunk_data(payload_data='0123...')]): user data.
        if isinstance(p, sctp.sctp):
            for c in p.chunks:
                if hasattr(c, 'payload_data'):
                    c.payload_data = _bytes(c.payload_data)
    return _serialize(self)


packet.Packet.serialize = _serialize_py2_payloads


def _sctp_checksum(self, data):
    """The SCTP checksum (CRC32c, RFC 4960 appendix B) of data.

    os-ken's own runs over str(data), which on Python 3 is the text
    "bytearray(b'...')", not the bytes, so every SCTP packet it builds
    carries a wrong checksum, and a switch that rewrites an SCTP port and
    recomputes the checksum correctly would fail the case. Returned as
    os-ken's is: the value whose big-endian bytes are the wire bytes.
    """
    crc = 0xffffffff
    for b in bytes(data):
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82f63b78 if crc & 1 else 0)
    crc ^= 0xffffffff
    return int.from_bytes(crc.to_bytes(4, 'little'), 'big')


sctp.sctp._checksum = _sctp_checksum


class Py2Payloads(app_manager.OSKenApp):
    """An app only so that osken-manager loads this module."""


def _pace_by_clock():
    """With OF13_PACING=clock, paces the tester's continuous sending by time.

    The tester sends pktps/100 packets per 10 ms tick and takes a tick as
    exactly 10 ms; on a loaded host each tick runs late, so it sends fewer
    packets per second than the case says, and the throughput a case
    measures at the far end is short by as much (a switch that forwards
    every packet still fails). Here each tick sends what the time since the
    previous tick is due instead.
    """
    import time
    from os_ken.tests.switch import tester

    send = tester.OfTester._send_packet_thread
    tick = tester.CONTINUOUS_THREAD_INTVL

    def send_paced(self, arg):
        now = time.monotonic()
        pps = arg.setdefault('gk_pktps', arg['packet_counter_inc'] / tick)
        last = arg.get('gk_last')
        if last is not None:
            arg['packet_counter_inc'] = pps * (now - last)
        arg['gk_last'] = now
        return send(self, arg)

    tester.OfTester._send_packet_thread = send_paced


def _log_offered_load():
    """Logs the rate a throughput case offered the target switch.

    A throughput case fails when the rate behind the target is off by more
    than 10%, which happens both when the target forwards or meters wrongly
    and when the tester could not send as fast as the case asks (the tester
    is Python, sending one PACKET_OUT per packet). The number of packets
    the tester switch sent on its sending port while the case ran tells the
    two apart; it is logged before the case's result, as
    "        offered: N pkt/s (P% of the case's M pkt/s)".
    """
    import time
    from os_ken.tests.switch import tester

    test = tester.OfTester._test

    def tx(self):
        counts = test(self, tester.STATE_TESTER_PKT_COUNT, False)
        return counts.get(self.tester_send_port, {}).get('tx', 0)

    def test_logging_offered(self, state, *args):
        if state == tester.STATE_GET_THROUGHPUT:
            result = test(self, state, *args)
            sent, now = tx(self), time.monotonic()
            begun = getattr(self, 'gk_offered_begun', None)
            if begun is None:
                self.gk_offered_begun = (sent, now)
            else:
                self.gk_offered_begun = None
                rate = (sent - begun[0]) / max(now - begun[1], 1e-9)
                want = getattr(self, 'gk_offered_want', 0)
                share = ' (%d%% of the case\'s %d pkt/s)' % (
                    100 * rate / want, want) if want else ''
                self.logger.info('        offered: %.0f pkt/s%s', rate, share)
            # The check that follows looks at the state it expects.
            self.state = state
            return result
        return test(self, state, *args)

    send = tester.OfTester._continuous_packet_send

    def send_noting_rate(self, pkt):
        self.gk_offered_want = pkt[tester.KEY_PACKETS][tester.KEY_PKTPS]
        return send(self, pkt)

    tester.OfTester._test = test_logging_offered
    tester.OfTester._continuous_packet_send = send_noting_rate


if os.environ.get('OF13_PACING') == 'clock':
    _pace_by_clock()
_log_offered_load()
