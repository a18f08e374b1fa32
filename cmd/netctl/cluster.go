package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/goko-net/goko/netctl"
	"github.com/goko-net/goko/ofclient"
)

// export writes the model (from the file or etcd) as a state file.
func (e *env) export(args []string) error {
	if len(args) > 1 {
		return usagef("usage: netctl export [FILE]")
	}
	var st *netctl.State
	if err := e.list(func(s *netctl.State) { st = s }); err != nil {
		return err
	}
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	data = append(data, '\n')
	if len(args) == 0 || args[0] == "-" {
		_, err = os.Stdout.Write(data)
		return err
	}
	return os.WriteFile(args[0], data, 0o600)
}

// importState replaces the model with a state file's. With a state file
// as the store it also re-programs the switches whose flows change.
func (e *env) importState(args []string) error {
	file, err := oneArg(args, "import FILE")
	if err != nil {
		return err
	}
	st, err := netctl.ReadStateFile(file)
	if err != nil {
		return err
	}
	if e.etcd != nil {
		ctx, cancel := context.WithTimeout(context.Background(), e.timeout)
		defer cancel()
		return e.etcd.Replace(ctx, st)
	}
	return e.change(func(cur *netctl.State) error {
		*cur = *st
		return nil
	})
}

// agent runs netctl's per-host agent until SIGINT or SIGTERM.
func (e *env) agent(args []string) error {
	fs := newFlags("agent")
	sw := fs.String("switch", "", "the switch (its name in the model) to keep")
	target := fs.String("target", "", "reach the switch here instead of at the model's target")
	id := fs.String("id", "", "this agent's name in the election (default: switch name, pid)")
	ttl := fs.Int("ttl", 2, "lease in seconds: how long a dead master holds the switch")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *sw == "" || fs.NArg() > 0 {
		return usagef("usage: netctl agent --switch NAME [--target TARGET] [--id ID] [--ttl SECONDS]")
	}
	if e.etcd == nil {
		return usagef("netctl agent needs the model in etcd: give --etcd URLS (before the command) or set GOKO_NETCTL_ETCD")
	}
	if *id == "" {
		host, _ := os.Hostname()
		*id = fmt.Sprintf("%s/%s/%d", *sw, host, os.Getpid())
	}
	opt := ofclient.Options{}
	if !e.tls.Empty() {
		conf, err := e.tls.Config()
		if err != nil {
			return err
		}
		opt.TLS = conf
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	a := netctl.NewAgent(netctl.AgentConfig{Etcd: e.etcd, Switch: *sw, Target: *target, RunDir: e.runDir, TLS: opt,
		ID: *id, TTL: *ttl, Logger: log})
	log.Info("agent started", "switch", *sw, "id", *id)
	return a.Run(ctx)
}

// runEtcd runs a single-member etcd until SIGINT or SIGTERM.
func runEtcd(args []string) error {
	fs := newFlags("etcd")
	dir := fs.String("data-dir", "/var/lib/goko/etcd", "etcd's data directory")
	client := fs.String("listen-client", "http://127.0.0.1:2379", "client URL")
	peer := fs.String("listen-peer", "http://127.0.0.1:2380", "peer URL")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("usage: netctl etcd [--data-dir DIR] [--listen-client URL] [--listen-peer URL]")
	}
	srv, err := netctl.StartEmbeddedEtcd(*dir, *client, *peer)
	if err != nil {
		return err
	}
	defer srv.Close()
	fmt.Fprintf(os.Stderr, "netctl: etcd serving %s (data in %s)\n", srv.Endpoint, *dir)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	select {
	case <-ctx.Done():
		return nil
	case err := <-srv.Err():
		return err
	}
}
