package dpdk

/*
#cgo pkg-config: libdpdk
#include <stdlib.h>
#include <string.h>
#include <rte_eal.h>
#include <rte_mempool.h>
#include "goko_dpdk.h"
*/
import "C"

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"unsafe"
)

// MaxBurst is the largest number of packets one C helper call moves; Recv
// returns at most MaxBurst packets, Send and Release loop over larger slices.
const MaxBurst = 256

// MaxBurst must equal GOKO_MAX_BURST (goko_dpdk.h): either difference
// being negative fails to compile.
const _ = uint(MaxBurst-C.GOKO_MAX_BURST) + uint(C.GOKO_MAX_BURST-MaxBurst)

// LogLevel is a DPDK log level (RTE_LOG_*).
type LogLevel int

// DPDK log levels. The zero value selects LogNotice.
const (
	LogDefault   LogLevel = 0
	LogEmergency LogLevel = 1
	LogAlert     LogLevel = 2
	LogCritical  LogLevel = 3
	LogError     LogLevel = 4
	LogWarning   LogLevel = 5
	LogNotice    LogLevel = 6
	LogInfo      LogLevel = 7
	LogDebug     LogLevel = 8
)

// Defaults for EALConfig's zero fields.
const (
	DefaultMemoryMB     = 512
	DefaultMbufs        = 16383 // a power of two minus one suits the pool's ring
	DefaultMbufCache    = 256
	DefaultMbufDataRoom = 2048 // bytes after the mbuf headroom (RTE_PKTMBUF_HEADROOM, 128)
)

// EALConfig configures the DPDK Environment Abstraction Layer and the
// packet-buffer pool. The zero value gives
// `-l <first allowed CPU> --no-huge -m 512 --no-pci --no-telemetry
// --file-prefix=goko-<pid> --log-level=notice` and a pool of 16383 mbufs.
type EALConfig struct {
	// FilePrefix names the runtime directory /var/run/dpdk/<prefix>
	// (default "goko-<pid>"). Two live DPDK processes need different ones.
	FilePrefix string
	// MemoryMB is the memory EAL reserves (-m), default 512.
	MemoryMB int
	// Hugepages uses hugetlbfs memory instead of --no-huge. Init fails
	// clearly when no hugepages are reserved or hugetlbfs is not mounted.
	Hugepages bool
	// PCI enables the PCI bus (physical NICs bound to vfio-pci); without
	// it EAL runs with --no-pci and only vdevs can be opened.
	PCI bool
	// Lcores overrides the lcore list (-l); default is the first CPU the
	// process may run on. Extra lcores make EAL start worker threads,
	// which goko does not use.
	Lcores string
	// LogLevel is the level of every DPDK log type (--log-level=*:N,
	// default LogNotice). It is ignored when ExtraArgs holds a
	// --log-level option; there, put specific patterns before a catch-all
	// ("--log-level=pmd.net.memif:debug", "--log-level=*:notice"), since
	// for drivers DPDK 22.11 applies the first matching pattern. DPDK's
	// log goes to the process's stderr.
	LogLevel LogLevel
	// Telemetry keeps DPDK's telemetry socket; by default --no-telemetry.
	Telemetry bool
	// Mbufs is the number of mbufs in the pool (default 16383). Every rx
	// descriptor of a physical NIC holds one, as does every packet in
	// flight, so size it to ports*(RxDesc+TxDesc)+some.
	Mbufs int
	// MbufCache is the per-lcore cache size of the pool (default 256,
	// at most 512).
	MbufCache int
	// MbufDataRoom is the data room of an mbuf after its 128-byte
	// headroom (default 2048): the largest frame a port receives or the
	// copy path sends.
	MbufDataRoom int
	// ExtraArgs are appended to the EAL command line, e.g.
	// "--vdev=net_null0" or "--legacy-mem".
	ExtraArgs []string
}

// EAL is the initialised DPDK environment: the pool and the open ports.
type EAL struct {
	mu       sync.Mutex
	mainCall chan func() // runs functions on the main lcore's thread
	cfg      EALConfig
	args     []string
	runDir   string
	pool     *C.struct_rte_mempool
	ports    map[uint16]*Port
	deadRx   []*C.struct_goko_rxq // rx queue state of closed ports
	closed   bool
}

var (
	initMu     sync.Mutex
	initCalled bool

	// The pool's memory range: a Packet.Buf inside it is one of our mbufs.
	// Written once by Init before any port exists, cleared by Close.
	mbufLo, mbufHi uintptr
)

// withDefaults returns cfg with its zero fields filled in.
func (cfg EALConfig) withDefaults() EALConfig {
	if cfg.FilePrefix == "" {
		cfg.FilePrefix = "goko-" + strconv.Itoa(os.Getpid())
	}
	if cfg.MemoryMB == 0 {
		cfg.MemoryMB = DefaultMemoryMB
	}
	if cfg.LogLevel == LogDefault {
		cfg.LogLevel = LogNotice
	}
	if cfg.Lcores == "" {
		cfg.Lcores = strconv.Itoa(firstAllowedCPU())
	}
	if cfg.Mbufs == 0 {
		cfg.Mbufs = DefaultMbufs
	}
	if cfg.MbufCache == 0 {
		cfg.MbufCache = DefaultMbufCache
	}
	if cfg.MbufDataRoom == 0 {
		cfg.MbufDataRoom = DefaultMbufDataRoom
	}
	return cfg
}

// Args returns the EAL command line (without the program name) that Init
// passes for cfg.
func (cfg EALConfig) Args() []string {
	cfg = cfg.withDefaults()
	args := []string{"-l", cfg.Lcores}
	if cfg.Hugepages {
		args = append(args, "-m", strconv.Itoa(cfg.MemoryMB))
	} else {
		args = append(args, "--no-huge", "-m", strconv.Itoa(cfg.MemoryMB))
	}
	if !cfg.PCI {
		args = append(args, "--no-pci")
	}
	if !cfg.Telemetry {
		args = append(args, "--no-telemetry")
	}
	args = append(args, "--file-prefix="+cfg.FilePrefix)
	userLog := false
	for _, a := range cfg.ExtraArgs {
		userLog = userLog || strings.HasPrefix(a, "--log-level")
	}
	if !userLog {
		args = append(args, "--log-level=*:"+strconv.Itoa(int(cfg.LogLevel)))
	}
	return append(args, cfg.ExtraArgs...)
}

func (cfg EALConfig) validate() error {
	switch {
	case strings.ContainsAny(cfg.FilePrefix, "/ \t\n"):
		return fmt.Errorf("dpdk: invalid FilePrefix %q", cfg.FilePrefix)
	case cfg.MemoryMB < 0:
		return fmt.Errorf("dpdk: invalid MemoryMB %d", cfg.MemoryMB)
	case cfg.LogLevel < LogDefault || cfg.LogLevel > LogDebug:
		return fmt.Errorf("dpdk: invalid LogLevel %d", cfg.LogLevel)
	case cfg.Mbufs < 0 || cfg.MbufCache < 0 || cfg.MbufCache > 512:
		return fmt.Errorf("dpdk: invalid pool size: Mbufs %d, MbufCache %d (at most 512)", cfg.Mbufs, cfg.MbufCache)
	case cfg.MbufDataRoom < 0 || cfg.MbufDataRoom+C.RTE_PKTMBUF_HEADROOM > 0xffff:
		return fmt.Errorf("dpdk: invalid MbufDataRoom %d", cfg.MbufDataRoom)
	}
	return nil
}

// runtimeDir is where EAL keeps /var/run/dpdk/<prefix> (see
// eal_get_runtime_dir in DPDK).
func runtimeDir(prefix string) string {
	base := "/var/run"
	if os.Geteuid() != 0 {
		base = os.Getenv("XDG_RUNTIME_DIR")
		if base == "" {
			base = "/tmp"
		}
	}
	return filepath.Join(base, "dpdk", prefix)
}

// firstAllowedCPU is the lowest CPU in this thread's affinity mask.
func firstAllowedCPU() int {
	var mask [1024 / 64]uint64
	_, _, e := syscall.RawSyscall(syscall.SYS_SCHED_GETAFFINITY, 0,
		uintptr(len(mask)*8), uintptr(unsafe.Pointer(&mask[0])))
	if e != 0 {
		return 0
	}
	for i, w := range mask {
		for b := 0; b < 64; b++ {
			if w&(1<<b) != 0 {
				return i*64 + b
			}
		}
	}
	return 0
}

// checkHugepages reports why EAL could not use hugepages, or nil.
func checkHugepages() error {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return fmt.Errorf("dpdk: hugepages: %w", err)
	}
	defer f.Close()
	total := -1
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "HugePages_Total:"); ok {
			total, _ = strconv.Atoi(strings.TrimSpace(v))
		}
	}
	if total <= 0 {
		return errors.New("dpdk: Hugepages requested but HugePages_Total is 0 in /proc/meminfo " +
			"(reserve some: echo 512 > /proc/sys/vm/nr_hugepages), or run without Hugepages (--no-huge)")
	}
	mounts, err := os.ReadFile("/proc/mounts")
	if err == nil && !strings.Contains(string(mounts), " hugetlbfs ") {
		return errors.New("dpdk: Hugepages requested but no hugetlbfs is mounted " +
			"(mount -t hugetlbfs nodev /dev/hugepages)")
	}
	return nil
}

// errnoString renders a positive errno value.
func errnoString(e int) string {
	if e <= 0 {
		return fmt.Sprintf("error %d", e)
	}
	return syscall.Errno(e).Error()
}

// Init starts DPDK's EAL with cfg and creates the packet-buffer pool. It
// may be called once per process. EAL's main lcore is an OS thread of its
// own, locked and parked until Close, on which the control path (probing,
// closing, cleanup) runs; its CPU pin is undone so that the Go runtime
// does not inherit it. DPDK logs go to stderr.
func Init(cfg EALConfig) (*EAL, error) {
	initMu.Lock()
	defer initMu.Unlock()
	if initCalled {
		return nil, errors.New("dpdk: Init called twice (DPDK's EAL can be initialised once per process)")
	}
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.Hugepages {
		if err := checkHugepages(); err != nil {
			return nil, err
		}
	}
	args := append([]string{"goko"}, cfg.Args()...)
	runDir := runtimeDir(cfg.FilePrefix)
	_, statErr := os.Stat(runDir)
	preexisting := statErr == nil

	// argv must outlive rte_eal_init (EAL keeps pointers into it), so it
	// is never freed.
	argv := (**C.char)(C.calloc(C.size_t(len(args)+1), C.size_t(unsafe.Sizeof((*C.char)(nil)))))
	av := unsafe.Slice(argv, len(args)+1)
	for i, a := range args {
		av[i] = C.CString(a)
	}

	initCalled = true
	// EAL runs on a goroutine of its own that keeps its thread (the main
	// lcore) locked until Close, so no other goroutine ever inherits the
	// main lcore's identity.
	e := &EAL{cfg: cfg, args: args[1:], runDir: runDir, ports: make(map[uint16]*Port),
		mainCall: make(chan func())}
	initDone := make(chan C.int)
	go e.mainLcore(len(args), argv, initDone)
	if ret := <-initDone; ret < 0 {
		if !preexisting {
			os.RemoveAll(runDir)
		}
		return nil, fmt.Errorf("dpdk: rte_eal_init %q: %s (see the EAL log on stderr)",
			strings.Join(args[1:], " "), errnoString(int(-ret)))
	}

	name := C.CString("goko_mbuf")
	defer C.free(unsafe.Pointer(name))
	var lo, hi C.uintptr_t
	var errno C.int
	e.onMain(func() { // rte_errno is per thread
		e.pool = C.goko_pool_create(name, C.uint(cfg.Mbufs), C.uint(cfg.MbufCache),
			C.uint(cfg.MbufDataRoom), &lo, &hi)
		errno = C.goko_errno()
	})
	if e.pool == nil {
		err := fmt.Errorf("dpdk: creating a pool of %d mbufs of %d bytes: %s (raise MemoryMB?)",
			cfg.Mbufs, cfg.MbufDataRoom, errnoString(int(errno)))
		e.onMain(func() { C.rte_eal_cleanup() })
		close(e.mainCall)
		os.RemoveAll(runDir)
		return nil, err
	}
	mbufLo, mbufHi = uintptr(lo), uintptr(hi)
	return e, nil
}

// mainLcore runs rte_eal_init and then, on the same locked thread, the
// functions sent on e.mainCall until it is closed. It returns without
// unlocking, so the Go runtime discards the thread.
func (e *EAL) mainLcore(argc int, argv **C.char, initDone chan<- C.int) {
	runtime.LockOSThread()
	ret := C.goko_eal_init(C.int(argc), argv)
	initDone <- ret
	if ret < 0 {
		return
	}
	for f := range e.mainCall {
		f()
	}
}

// onMain runs f on the main lcore's thread and waits for it.
func (e *EAL) onMain(f func()) {
	done := make(chan struct{})
	e.mainCall <- func() { f(); close(done) }
	<-done
}

// Args returns the EAL command line Init used, without the program name.
func (e *EAL) Args() []string { return append([]string(nil), e.args...) }

// RuntimeDir returns EAL's runtime directory (/var/run/dpdk/<prefix>),
// which Close removes.
func (e *EAL) RuntimeDir() string { return e.runDir }

// MbufsAvailable returns how many mbufs the pool holds free, including
// those in per-lcore caches.
func (e *EAL) MbufsAvailable() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return 0
	}
	return int(C.goko_pool_avail(e.pool))
}

// MbufsInUse returns how many mbufs are allocated: held by devices (rx
// rings, tx queues in flight), by goko (received, not yet released), or by
// the ports' copy stashes.
func (e *EAL) MbufsInUse() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return 0
	}
	return int(C.goko_pool_in_use(e.pool))
}

// Close closes every open port, frees the pool, calls rte_eal_cleanup and
// removes the runtime directory. Stop polling and release every packet
// first: packet memory is unmapped. EAL cannot be initialised again.
func (e *EAL) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil
	}
	var errs []error
	for _, p := range e.ports {
		if err := p.closeLocked(); err != nil {
			errs = append(errs, err)
		}
	}
	e.closed = true
	for _, q := range e.deadRx {
		C.goko_rxq_free(q)
	}
	e.deadRx = nil
	mbufLo, mbufHi = 0, 0
	C.rte_mempool_free(e.pool)
	e.pool = nil
	var ret C.int
	e.onMain(func() { ret = C.rte_eal_cleanup() })
	close(e.mainCall)
	if ret < 0 {
		errs = append(errs, fmt.Errorf("dpdk: rte_eal_cleanup: %s", errnoString(int(-ret))))
	}
	if err := os.RemoveAll(e.runDir); err != nil {
		errs = append(errs, fmt.Errorf("dpdk: removing %s: %w", e.runDir, err))
	}
	return errors.Join(errs...)
}

// RegisterThread gives the calling OS thread a DPDK lcore id
// (rte_thread_register), so that mempool allocations and frees on it use a
// per-lcore cache. Call it after runtime.LockOSThread from each goroutine
// that polls ports; it is a no-op on a thread registered already. Without
// it Recv/Send/Release still work, only slower. DPDK has 128 lcore ids.
func RegisterThread() error {
	if ret := C.goko_thread_register(); ret < 0 {
		return fmt.Errorf("dpdk: rte_thread_register: %s", errnoString(int(-ret)))
	}
	return nil
}

// UnregisterThread returns the calling thread's lcore id (from
// RegisterThread) to DPDK. Call it before runtime.UnlockOSThread.
func UnregisterThread() { C.goko_thread_unregister() }

// lcoreID returns the calling thread's lcore id, or -1 if it has none.
func lcoreID() int {
	id := C.goko_lcore_id()
	if uint32(id) == ^uint32(0) { // LCORE_ID_ANY
		return -1
	}
	return int(id)
}
