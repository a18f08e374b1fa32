package tests

// Flow-table scale: deleting a million flows while traffic that needs the
// slow path keeps crossing the switch.

import (
	"bufio"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestForwardingDuringBulkDelete deletes a million flows with one
// del-flows while h1 pings h2 and sends UDP datagrams to ever new ports.
// Each new port misses the datapath caches (a priority-200 rule on tp_dst
// puts the port in the megaflow mask), so the datapath keeps asking the
// OpenFlow tables while the delete runs. Pings must keep being answered
// during the delete: a translation may not wait for a bulk change.
func TestForwardingDuringBulkDelete(t *testing.T) {
	const n = 1000000
	h1, h2 := newHost(t, "10.87.0.1"), newHost(t, "10.87.0.2")
	sw := startSwitchd(t, "--port", "1="+h1.swPort, "--port", "2="+h2.swPort)
	var b strings.Builder
	b.WriteString("priority=100,in_port=1,actions=output:2\npriority=100,in_port=2,actions=output:1\n")
	b.WriteString("priority=200,udp,tp_dst=9,actions=drop\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "cookie=0x5,priority=%d,ip,nw_dst=11.%d.%d.%d,actions=output:2\n", 1+i%50, i>>16, (i>>8)&255, i&255)
	}
	start := time.Now()
	if out, err := sw.ofctlLong(b.String(), 10*time.Minute, "add-flows", "br0", "-"); err != nil {
		t.Fatalf("add-flows: %v\n%s", err, out)
	}
	t.Logf("add-flows of %d flows: %v", n+3, time.Since(start).Round(time.Millisecond))
	if !h1.ping(h2.ip, 2) {
		t.Fatal("no ping before the delete")
	}

	// Slow-path traffic: a UDP datagram to a new port every 10 ms.
	udp := exec.Command("ip", "netns", "exec", h1.ns, "bash", "-c",
		fmt.Sprintf("for p in $(seq 20000 40000); do echo x >/dev/udp/%s/$p; sleep 0.01; done", h2.ip))
	if err := udp.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { udp.Process.Kill(); udp.Wait() }()
	// Pings every 50 ms, each reply stamped with its arrival time.
	ping := exec.Command("ip", "netns", "exec", h1.ns, "ping", "-D", "-i", "0.05", "-W", "5", h2.ip)
	out, err := ping.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := ping.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { ping.Process.Kill(); ping.Wait() }()
	type reply struct {
		at  time.Time
		rtt float64 // ms
	}
	replies := make(chan reply, 1<<16)
	go func() {
		re := regexp.MustCompile(`^\[(\d+\.\d+)\].*time=([\d.]+) ms`)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				sec, _ := strconv.ParseFloat(m[1], 64)
				rtt, _ := strconv.ParseFloat(m[2], 64)
				replies <- reply{time.Unix(0, int64(sec*1e9)), rtt}
			}
		}
		close(replies)
	}()
	time.Sleep(time.Second)

	delStart := time.Now()
	if out, err := sw.ofctlLong("", 5*time.Minute, "del-flows", "br0", "cookie=0x5/0xffffffffffffffff"); err != nil {
		t.Fatalf("del-flows: %v\n%s", err, out)
	}
	delEnd := time.Now()
	time.Sleep(time.Second)
	ping.Process.Kill()

	var during, total int
	var maxRTT, maxDuring float64
	var lastBefore, firstAfter time.Time
	for r := range replies {
		total++
		maxRTT = max(maxRTT, r.rtt)
		switch {
		case r.at.Before(delStart):
			lastBefore = r.at
		case r.at.After(delEnd):
			if firstAfter.IsZero() {
				firstAfter = r.at
			}
		default:
			during++
			maxDuring = max(maxDuring, r.rtt)
		}
	}
	window := delEnd.Sub(delStart)
	t.Logf("del-flows of %d flows: %v; %d ping replies during it (largest rtt %.1f ms), %d in all (largest rtt %.1f ms)",
		n, window.Round(time.Millisecond), during, maxDuring, total, maxRTT)
	// Forwarding continued: replies kept arriving during the delete, at
	// least a tenth as many as the ping interval allows (before, the first
	// miss stopped the datapath thread until the delete was over).
	if want := int(window / (500 * time.Millisecond)); during < max(want, 1) && window > 200*time.Millisecond {
		t.Errorf("%d ping replies during the %v delete, want at least %d", during, window, want)
	}
	if lastBefore.IsZero() || firstAfter.IsZero() {
		t.Fatalf("pings stopped: last reply before the delete %v, first after %v", lastBefore, firstAfter)
	}
	if out := sw.mustOfctl("dump-aggregate", "br0"); !strings.Contains(out, "flow_count=3") {
		t.Errorf("after deleting cookie 0x5: %s", out)
	}
}
