package ubpf

import (
	"syscall"
	"testing"
	"time"
)

// processCPU is this process's user+system CPU time.
func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPUPerOp adds cpu-ns/op: CPU time per iteration since c0, robust
// when other work shares the cores.
func reportCPUPerOp(b *testing.B, c0 time.Duration) {
	b.ReportMetric(float64((processCPU()-c0).Nanoseconds())/float64(b.N), "cpu-ns/op")
}
