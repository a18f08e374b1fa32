package openflow

// Port numbers (enum ofp_port_no).
const (
	PortMax        uint32 = 0xffffff00 // OFPP_MAX: largest physical port number
	PortInPort     uint32 = 0xfffffff8 // OFPP_IN_PORT
	PortTable      uint32 = 0xfffffff9 // OFPP_TABLE
	PortNormal     uint32 = 0xfffffffa // OFPP_NORMAL
	PortFlood      uint32 = 0xfffffffb // OFPP_FLOOD
	PortAll        uint32 = 0xfffffffc // OFPP_ALL
	PortController uint32 = 0xfffffffd // OFPP_CONTROLLER
	PortLocal      uint32 = 0xfffffffe // OFPP_LOCAL
	PortAny        uint32 = 0xffffffff // OFPP_ANY
)

// Table ids (enum ofp_table).
const (
	TableMax uint8 = 0xfe // OFPTT_MAX
	TableAll uint8 = 0xff // OFPTT_ALL
)

// Group ids (enum ofp_group).
const (
	GroupMax uint32 = 0xffffff00 // OFPG_MAX
	GroupAll uint32 = 0xfffffffc // OFPG_ALL
	GroupAny uint32 = 0xffffffff // OFPG_ANY
)

// Meter ids (enum ofp_meter).
const (
	MeterMax        uint32 = 0xffff0000 // OFPM_MAX
	MeterSlowpath   uint32 = 0xfffffffd // OFPM_SLOWPATH
	MeterController uint32 = 0xfffffffe // OFPM_CONTROLLER
	MeterAll        uint32 = 0xffffffff // OFPM_ALL
)

// Queue ids.
const QueueAll uint32 = 0xffffffff // OFPQ_ALL

// NoBuffer is OFP_NO_BUFFER: no buffered packet.
const NoBuffer uint32 = 0xffffffff

// Controller max_len values (enum ofp_controller_max_len).
const (
	ControllerMaxLenMax      uint16 = 0xffe5 // OFPCML_MAX
	ControllerMaxLenNoBuffer uint16 = 0xffff // OFPCML_NO_BUFFER
)

// Default values of the spec.
const (
	DefaultMissSendLen = 128    // OFP_DEFAULT_MISS_SEND_LEN
	DefaultPriority    = 0x8000 // OFP_DEFAULT_PRIORITY
	TCPPort            = 6653   // OFP_TCP_PORT
)

// VLAN id bits (enum ofp_vlan_id).
const (
	VIDPresent uint16 = 0x1000 // OFPVID_PRESENT
	VIDNone    uint16 = 0x0000 // OFPVID_NONE
)

// Capabilities are the switch capability bits (enum ofp_capabilities).
type Capabilities uint32

// Capability bits.
const (
	CapFlowStats   Capabilities = 1 << 0 // OFPC_FLOW_STATS
	CapTableStats  Capabilities = 1 << 1 // OFPC_TABLE_STATS
	CapPortStats   Capabilities = 1 << 2 // OFPC_PORT_STATS
	CapGroupStats  Capabilities = 1 << 3 // OFPC_GROUP_STATS
	CapIPReasm     Capabilities = 1 << 5 // OFPC_IP_REASM
	CapQueueStats  Capabilities = 1 << 6 // OFPC_QUEUE_STATS
	CapPortBlocked Capabilities = 1 << 8 // OFPC_PORT_BLOCKED
)

// ConfigFlags are the switch configuration flags (enum ofp_config_flags).
type ConfigFlags uint16

// Configuration flags.
const (
	FragNormal ConfigFlags = 0 // OFPC_FRAG_NORMAL
	FragDrop   ConfigFlags = 1 // OFPC_FRAG_DROP
	FragReasm  ConfigFlags = 2 // OFPC_FRAG_REASM
	FragMask   ConfigFlags = 3 // OFPC_FRAG_MASK
)

// TableConfig is the table configuration of TABLE_MOD and table features.
type TableConfig uint32

// TableConfigDeprecatedMask is OFPTC_DEPRECATED_MASK.
const TableConfigDeprecatedMask TableConfig = 3

// PortConfig are port administrative bits (enum ofp_port_config).
type PortConfig uint32

// Port config bits.
const (
	PortConfigDown       PortConfig = 1 << 0 // OFPPC_PORT_DOWN
	PortConfigNoRecv     PortConfig = 1 << 2 // OFPPC_NO_RECV
	PortConfigNoFwd      PortConfig = 1 << 5 // OFPPC_NO_FWD
	PortConfigNoPacketIn PortConfig = 1 << 6 // OFPPC_NO_PACKET_IN
)

// PortState are port state bits (enum ofp_port_state).
type PortState uint32

// Port state bits.
const (
	PortStateLinkDown PortState = 1 << 0 // OFPPS_LINK_DOWN
	PortStateBlocked  PortState = 1 << 1 // OFPPS_BLOCKED
	PortStateLive     PortState = 1 << 2 // OFPPS_LIVE
)

// PortFeatures are port feature bits (enum ofp_port_features).
type PortFeatures uint32

// Port feature bits.
const (
	PortFeature10MbHD    PortFeatures = 1 << 0  // OFPPF_10MB_HD
	PortFeature10MbFD    PortFeatures = 1 << 1  // OFPPF_10MB_FD
	PortFeature100MbHD   PortFeatures = 1 << 2  // OFPPF_100MB_HD
	PortFeature100MbFD   PortFeatures = 1 << 3  // OFPPF_100MB_FD
	PortFeature1GbHD     PortFeatures = 1 << 4  // OFPPF_1GB_HD
	PortFeature1GbFD     PortFeatures = 1 << 5  // OFPPF_1GB_FD
	PortFeature10GbFD    PortFeatures = 1 << 6  // OFPPF_10GB_FD
	PortFeature40GbFD    PortFeatures = 1 << 7  // OFPPF_40GB_FD
	PortFeature100GbFD   PortFeatures = 1 << 8  // OFPPF_100GB_FD
	PortFeature1TbFD     PortFeatures = 1 << 9  // OFPPF_1TB_FD
	PortFeatureOther     PortFeatures = 1 << 10 // OFPPF_OTHER
	PortFeatureCopper    PortFeatures = 1 << 11 // OFPPF_COPPER
	PortFeatureFiber     PortFeatures = 1 << 12 // OFPPF_FIBER
	PortFeatureAutoneg   PortFeatures = 1 << 13 // OFPPF_AUTONEG
	PortFeaturePause     PortFeatures = 1 << 14 // OFPPF_PAUSE
	PortFeaturePauseAsym PortFeatures = 1 << 15 // OFPPF_PAUSE_ASYM
)

// PortReason is the reason of a PORT_STATUS message (enum ofp_port_reason).
type PortReason uint8

// Port status reasons.
const (
	PortReasonAdd    PortReason = 0 // OFPPR_ADD
	PortReasonDelete PortReason = 1 // OFPPR_DELETE
	PortReasonModify PortReason = 2 // OFPPR_MODIFY
)

// PacketInReason is the reason of a PACKET_IN (enum ofp_packet_in_reason).
type PacketInReason uint8

// Packet-in reasons.
const (
	PacketInReasonNoMatch    PacketInReason = 0 // OFPR_NO_MATCH
	PacketInReasonAction     PacketInReason = 1 // OFPR_ACTION
	PacketInReasonInvalidTTL PacketInReason = 2 // OFPR_INVALID_TTL
)

// FlowRemovedReason is the reason of a FLOW_REMOVED (enum ofp_flow_removed_reason).
type FlowRemovedReason uint8

// Flow-removed reasons.
const (
	FlowRemovedIdleTimeout FlowRemovedReason = 0 // OFPRR_IDLE_TIMEOUT
	FlowRemovedHardTimeout FlowRemovedReason = 1 // OFPRR_HARD_TIMEOUT
	FlowRemovedDelete      FlowRemovedReason = 2 // OFPRR_DELETE
	FlowRemovedGroupDelete FlowRemovedReason = 3 // OFPRR_GROUP_DELETE
)

// FlowModCommand is the command of a FLOW_MOD (enum ofp_flow_mod_command).
type FlowModCommand uint8

// Flow-mod commands.
const (
	FlowAdd          FlowModCommand = 0 // OFPFC_ADD
	FlowModify       FlowModCommand = 1 // OFPFC_MODIFY
	FlowModifyStrict FlowModCommand = 2 // OFPFC_MODIFY_STRICT
	FlowDelete       FlowModCommand = 3 // OFPFC_DELETE
	FlowDeleteStrict FlowModCommand = 4 // OFPFC_DELETE_STRICT
)

// FlowModFlags are FLOW_MOD flags (enum ofp_flow_mod_flags).
type FlowModFlags uint16

// Flow-mod flags.
const (
	FlowFlagSendFlowRem  FlowModFlags = 1 << 0 // OFPFF_SEND_FLOW_REM
	FlowFlagCheckOverlap FlowModFlags = 1 << 1 // OFPFF_CHECK_OVERLAP
	FlowFlagResetCounts  FlowModFlags = 1 << 2 // OFPFF_RESET_COUNTS
	FlowFlagNoPktCounts  FlowModFlags = 1 << 3 // OFPFF_NO_PKT_COUNTS
	FlowFlagNoBytCounts  FlowModFlags = 1 << 4 // OFPFF_NO_BYT_COUNTS
)

// GroupModCommand is the command of a GROUP_MOD (enum ofp_group_mod_command).
type GroupModCommand uint16

// Group-mod commands.
const (
	GroupAdd    GroupModCommand = 0 // OFPGC_ADD
	GroupModify GroupModCommand = 1 // OFPGC_MODIFY
	GroupDelete GroupModCommand = 2 // OFPGC_DELETE
)

// GroupType is a group type (enum ofp_group_type).
type GroupType uint8

// Group types.
const (
	GroupTypeAll      GroupType = 0 // OFPGT_ALL
	GroupTypeSelect   GroupType = 1 // OFPGT_SELECT
	GroupTypeIndirect GroupType = 2 // OFPGT_INDIRECT
	GroupTypeFF       GroupType = 3 // OFPGT_FF (fast failover)
)

// GroupCapabilities are group feature capability bits (enum ofp_group_capabilities).
type GroupCapabilities uint32

// Group capability bits.
const (
	GroupCapSelectWeight   GroupCapabilities = 1 << 0 // OFPGFC_SELECT_WEIGHT
	GroupCapSelectLiveness GroupCapabilities = 1 << 1 // OFPGFC_SELECT_LIVENESS
	GroupCapChaining       GroupCapabilities = 1 << 2 // OFPGFC_CHAINING
	GroupCapChainingChecks GroupCapabilities = 1 << 3 // OFPGFC_CHAINING_CHECKS
)

// MeterModCommand is the command of a METER_MOD (enum ofp_meter_mod_command).
type MeterModCommand uint16

// Meter-mod commands.
const (
	MeterAdd    MeterModCommand = 0 // OFPMC_ADD
	MeterModify MeterModCommand = 1 // OFPMC_MODIFY
	MeterDelete MeterModCommand = 2 // OFPMC_DELETE
)

// MeterFlags are meter configuration flags (enum ofp_meter_flags).
type MeterFlags uint16

// Meter flags.
const (
	MeterFlagKbps  MeterFlags = 1 << 0 // OFPMF_KBPS
	MeterFlagPktps MeterFlags = 1 << 1 // OFPMF_PKTPS
	MeterFlagBurst MeterFlags = 1 << 2 // OFPMF_BURST
	MeterFlagStats MeterFlags = 1 << 3 // OFPMF_STATS
)

// MeterBandType is a meter band type (enum ofp_meter_band_type).
type MeterBandType uint16

// Meter band types.
const (
	MeterBandDrop         MeterBandType = 1      // OFPMBT_DROP
	MeterBandDSCPRemark   MeterBandType = 2      // OFPMBT_DSCP_REMARK
	MeterBandExperimenter MeterBandType = 0xffff // OFPMBT_EXPERIMENTER
)

// ControllerRole is a controller role (enum ofp_controller_role).
type ControllerRole uint32

// Controller roles.
const (
	RoleNoChange ControllerRole = 0 // OFPCR_ROLE_NOCHANGE
	RoleEqual    ControllerRole = 1 // OFPCR_ROLE_EQUAL
	RoleMaster   ControllerRole = 2 // OFPCR_ROLE_MASTER
	RoleSlave    ControllerRole = 3 // OFPCR_ROLE_SLAVE
)

// QueuePropType is a queue property type (enum ofp_queue_properties).
type QueuePropType uint16

// Queue property types.
const (
	QueuePropMinRate      QueuePropType = 1      // OFPQT_MIN_RATE
	QueuePropMaxRate      QueuePropType = 2      // OFPQT_MAX_RATE
	QueuePropExperimenter QueuePropType = 0xffff // OFPQT_EXPERIMENTER
)

// IPv6ExtHdrFlags are the bits of the IPV6_EXTHDR match field
// (enum ofp_ipv6exthdr_flags).
type IPv6ExtHdrFlags uint16

// IPv6 extension header pseudo-field bits.
const (
	IPv6ExtNoNext IPv6ExtHdrFlags = 1 << 0 // OFPIEH_NONEXT
	IPv6ExtESP    IPv6ExtHdrFlags = 1 << 1 // OFPIEH_ESP
	IPv6ExtAuth   IPv6ExtHdrFlags = 1 << 2 // OFPIEH_AUTH
	IPv6ExtDest   IPv6ExtHdrFlags = 1 << 3 // OFPIEH_DEST
	IPv6ExtFrag   IPv6ExtHdrFlags = 1 << 4 // OFPIEH_FRAG
	IPv6ExtRouter IPv6ExtHdrFlags = 1 << 5 // OFPIEH_ROUTER
	IPv6ExtHop    IPv6ExtHdrFlags = 1 << 6 // OFPIEH_HOP
	IPv6ExtUnrep  IPv6ExtHdrFlags = 1 << 7 // OFPIEH_UNREP
	IPv6ExtUnseq  IPv6ExtHdrFlags = 1 << 8 // OFPIEH_UNSEQ
)

// MultipartFlags are the flags of multipart messages.
type MultipartFlags uint16

// MultipartMore is OFPMPF_REQ_MORE / OFPMPF_REPLY_MORE: more parts follow.
const MultipartMore MultipartFlags = 1

// HelloElemType is a HELLO element type (enum ofp_hello_elem_type).
type HelloElemType uint16

// HelloElemVersionBitmap is OFPHET_VERSIONBITMAP.
const HelloElemVersionBitmap HelloElemType = 1

// Async configuration mask indices: index 0 applies to the master and
// equal roles, index 1 to the slave role.
const (
	AsyncMaster = 0
	AsyncSlave  = 1
)
