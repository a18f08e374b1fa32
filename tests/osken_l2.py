# goko's own L2 learning switch for os-ken, used by the integration tests
# (tests/controllers_test.go). It differs from os-ken's simple_switch_13 in
# ways that exercise more of the switch:
#   - the table-miss entry sends only the first 64 bytes of a packet, so
#     packet-ins carry buffer ids and the app answers with packet-outs and
#     flow-mods that name the buffer;
#   - learned entries live in table 1, reached by goto_table from table 0;
#   - flows carry a cookie and idle timeout, like a real deployment.
from os_ken.base import app_manager
from os_ken.controller import ofp_event
from os_ken.controller.handler import CONFIG_DISPATCHER, MAIN_DISPATCHER, set_ev_cls
from os_ken.lib.packet import ethernet, ether_types, packet
from os_ken.ofproto import ofproto_v1_3

MISS_LEN = 64
COOKIE = 0x90c0


class GokoL2(app_manager.OSKenApp):
    OFP_VERSIONS = [ofproto_v1_3.OFP_VERSION]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.mac_to_port = {}

    @set_ev_cls(ofp_event.EventOFPSwitchFeatures, CONFIG_DISPATCHER)
    def features(self, ev):
        dp = ev.msg.datapath
        ofp, parser = dp.ofproto, dp.ofproto_parser
        # Table 0 sends everything to table 1; table 1 misses to the controller.
        dp.send_msg(parser.OFPFlowMod(datapath=dp, table_id=0, priority=0, cookie=COOKIE,
                                      instructions=[parser.OFPInstructionGotoTable(1)]))
        miss = [parser.OFPActionOutput(ofp.OFPP_CONTROLLER, MISS_LEN)]
        dp.send_msg(parser.OFPFlowMod(datapath=dp, table_id=1, priority=0, cookie=COOKIE,
                                      instructions=[parser.OFPInstructionActions(ofp.OFPIT_APPLY_ACTIONS, miss)]))
        self.logger.info("goko-l2: switch %016x configured", dp.id)

    @set_ev_cls(ofp_event.EventOFPPacketIn, MAIN_DISPATCHER)
    def packet_in(self, ev):
        msg = ev.msg
        dp = msg.datapath
        ofp, parser = dp.ofproto, dp.ofproto_parser
        in_port = msg.match['in_port']
        eth = packet.Packet(msg.data).get_protocols(ethernet.ethernet)[0]
        if eth.ethertype == ether_types.ETH_TYPE_LLDP:
            return
        table = self.mac_to_port.setdefault(dp.id, {})
        table[eth.src] = in_port
        out_port = table.get(eth.dst, ofp.OFPP_FLOOD)
        actions = [parser.OFPActionOutput(out_port)]
        if out_port != ofp.OFPP_FLOOD:
            match = parser.OFPMatch(in_port=in_port, eth_dst=eth.dst)
            inst = [parser.OFPInstructionActions(ofp.OFPIT_APPLY_ACTIONS, actions)]
            if msg.buffer_id != ofp.OFP_NO_BUFFER:
                # The flow-mod releases the buffered packet through the new rule.
                dp.send_msg(parser.OFPFlowMod(datapath=dp, table_id=1, priority=1, cookie=COOKIE,
                                              idle_timeout=300, match=match, instructions=inst,
                                              buffer_id=msg.buffer_id))
                self.logger.info("goko-l2: flow-mod with buffer %#x", msg.buffer_id)
                return
            dp.send_msg(parser.OFPFlowMod(datapath=dp, table_id=1, priority=1, cookie=COOKIE,
                                          idle_timeout=300, match=match, instructions=inst))
        data = None if msg.buffer_id != ofp.OFP_NO_BUFFER else msg.data
        dp.send_msg(parser.OFPPacketOut(datapath=dp, buffer_id=msg.buffer_id, in_port=in_port,
                                        actions=actions, data=data))
        if msg.buffer_id != ofp.OFP_NO_BUFFER:
            self.logger.info("goko-l2: packet-out with buffer %#x", msg.buffer_id)

    @set_ev_cls(ofp_event.EventOFPErrorMsg, MAIN_DISPATCHER)
    def error(self, ev):
        self.logger.error("goko-l2: switch error type=%d code=%d", ev.msg.type, ev.msg.code)
