package netctl

import "go.uber.org/zap"

// quietLogger keeps the etcd client's own logging to errors: netctl
// reports what matters itself.
func quietLogger() *zap.Logger {
	cfg := zap.NewProductionConfig()
	cfg.Level = zap.NewAtomicLevelAt(zap.ErrorLevel)
	l, err := cfg.Build()
	if err != nil {
		return zap.NewNop()
	}
	return l
}
