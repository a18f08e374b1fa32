# goko: the two entry points are `make demo` and `make test`. Both install
# what they need on a fresh Debian 12 machine (as root) and build first.

SHELL := /bin/bash
export PATH := /usr/local/go/bin:$(HOME)/go/bin:$(PATH)
GO ?= go
BIN := bin

# prometheus is there for promtool, which checks switchd's --metrics output
# (switchd/metrics_test.go); Debian ships promtool only in the whole server
# package: 19 MB to download, 96 MB installed, about a minute to install.
# mininet (2.3, with iperf, socat, telnet, net-tools, cgroup-tools; 45 s)
# runs contrib/mininet/goko.py in tests/mininet_test.go.
DEB_PKGS := clang llvm libbpf-dev libdpdk-dev dpdk pkg-config iproute2 ethtool \
	iputils-ping openvswitch-common openvswitch-testcontroller python3-os-ken \
	tcpdump libpcap-dev gcc make prometheus mininet

.PHONY: all deps build demo test unit integration lint fuzz bench clean man

all: build

# deps installs the Debian packages goko builds and tests with. It is quick
# when they are already there.
deps:
	@missing=""; for p in $(DEB_PKGS); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi
	@command -v $(GO) >/dev/null || { echo "Go 1.26 or newer is required (expected at /usr/local/go/bin)"; exit 1; }

# -buildvcs=auto: binaries record the commit they were built from (their
# --version prints it), also where GOFLAGS turns that off.
build: deps
	$(GO) build -buildvcs=auto -o $(BIN)/ ./cmd/...
	$(MAKE) -s -C examples/bpf

# demo: two namespaces joined by veths to switchd, flows added with ofctl,
# a ping across, dump-flows with counters, then everything is removed.
demo: build
	./scripts/demo.sh

# test: vet, unit tests, the demo (so the first command of the README can never
# silently break), then integration tests in network namespaces.
test: build lint unit demo integration

STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

unit:
	$(GO) test -count=1 -timeout 20m $$($(GO) list ./... | grep -v /tests)

integration:
	$(GO) test -count=1 -timeout 30m -v ./tests/ 2>&1 | tee /tmp/goko-integration.log | grep -E '^(=== RUN|--- |PASS|FAIL|ok|panic)|_test.go' ; \
		exit $${PIPESTATUS[0]}

# man: regenerate docs/man from the binaries' help texts (internal/manpage;
# its test fails when the pages are out of date).
man: build
	$(GO) run ./internal/manpage/gen -bin $(BIN) -out docs/man

fuzz:
	$(GO) test -run XXX -fuzz FuzzDecode -fuzztime 60s ./openflow/
	$(GO) test -run XXX -fuzz FuzzParse -fuzztime 60s ./datapath/
	$(GO) test -run XXX -fuzz FuzzJITDiffProgen -fuzztime 60s ./ubpf/
	$(GO) test -run XXX -fuzz FuzzJITUnverified -fuzztime 60s ./ubpf/

bench:
	$(GO) test -run XXX -bench . -benchmem ./datapath/...

clean:
	rm -rf $(BIN)
	$(MAKE) -s -C examples/bpf clean
