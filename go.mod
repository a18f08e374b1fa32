module github.com/goko-net/goko

go 1.26.8

require (
	github.com/cilium/ebpf v0.22.0
	github.com/spf13/pflag v1.0.10
	golang.org/x/arch v0.33.0
	gopkg.in/yaml.v3 v3.0.1
)

require golang.org/x/sys v0.43.0 // indirect
