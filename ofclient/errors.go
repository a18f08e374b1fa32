package ofclient

import (
	"fmt"

	"github.com/goko-net/goko/openflow"
)

// SwitchError is an OFPT_ERROR the switch sent in reply to a request.
type SwitchError struct {
	Xid uint32             // the xid of the failed request
	Msg *openflow.ErrorMsg // the error as received
}

func (e *SwitchError) Error() string { return "switch replied " + ErrorName(e.Msg) }

// ErrorName names an ERROR message's code the way ovs-ofctl does
// ("OFPBMC_BAD_PREREQ"), with the experimenter id for experimenter
// errors.
func ErrorName(m *openflow.ErrorMsg) string {
	if m.Code.Type() == openflow.ETExperimenter {
		if m.Experimenter == openflow.GokoExperimenter {
			return openflow.GokoErrorName(m.Code.Code())
		}
		return fmt.Sprintf("OFPET_EXPERIMENTER (experimenter 0x%08x, type %d)", m.Experimenter, m.Code.Code())
	}
	return m.Code.String()
}
