package main

import (
	"flag"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"time"

	"github.com/backupreport/backupreport/server"
	"github.com/backupreport/backupreport/store"
	"github.com/backupreport/backupreport/store/metrics"
)

// banOptions are serve's flags for banning addresses after failed logins.
type banOptions struct {
	threshold  *int
	window     *time.Duration
	banTime    *time.Duration
	maxBanTime *time.Duration
	memory     *time.Duration
	reload     *time.Duration
	allow      prefixList
}

func addBanFlags(fs *flag.FlagSet) *banOptions {
	o := &banOptions{
		threshold: fs.Int("ban-threshold", server.DefaultBanThreshold, "ban an SSH source address once its failed logins score this much within --ban-window\n"+
			"(an unknown or revoked key scores 2, a connection that fails before logging in 1; 0: never ban)"),
		window:     fs.Duration("ban-window", server.DefaultBanWindow, "how far back failed logins count towards --ban-threshold"),
		banTime:    fs.Duration("ban-time", server.DefaultBanTime, "length of a first ban; it doubles with each repeat offence"),
		maxBanTime: fs.Duration("ban-max-time", server.DefaultBanMaxTime, "longest ban, however often an address offends"),
		memory:     fs.Duration("ban-memory", server.DefaultBanMemory, "how long after a ban ended a new one counts as a repeat offence"),
		reload:     fs.Duration("ban-reload", server.DefaultBanReload, "how often bans are reloaded from the database (a ban lifted by 'backupreport ban lift' ends within this time)"),
	}
	fs.Var(&o.allow, "ban-allow", "an address or `CIDR` never banned (repeatable, or comma-separated), e.g. a monitoring host or a TCP proxy in front of the SSH port")
	return o
}

// defender builds the defender from the flags. It is returned even with
// --ban-threshold 0, refusing nothing, so that bans can still be lifted.
func (o *banOptions) defender(db *store.DB, log *slog.Logger, reg *metrics.Registry, shared *sharedLimits) (*server.Defender, error) {
	if *o.threshold < 0 {
		return nil, fmt.Errorf("--ban-threshold %d: want 0 (off) or more", *o.threshold)
	}
	if *o.threshold > 0 && (*o.window <= 0 || *o.banTime <= 0 || *o.maxBanTime < *o.banTime || *o.memory <= 0 || *o.reload <= 0) {
		return nil, fmt.Errorf("--ban-window, --ban-time, --ban-memory and --ban-reload must be positive, and --ban-max-time at least --ban-time")
	}
	cfg := server.DefenderConfig{Threshold: *o.threshold, Window: *o.window, BanTime: *o.banTime, MaxBanTime: *o.maxBanTime,
		Memory: *o.memory, Reload: *o.reload, Allow: o.allow, Logger: log, Registry: reg}
	if cfg.Threshold > 0 {
		cfg.Shared = shared.of(db, store.ScopeSSHBan, cfg.Window, server.DefaultBanMaxTracked)
	}
	return server.NewDefender(db, cfg), nil
}

// prefixList is a repeatable flag of addresses and CIDR prefixes, each
// value possibly a comma-separated list (as BACKUPREPORT_BAN_ALLOW is).
type prefixList []netip.Prefix

func (l *prefixList) String() string {
	var s []string
	for _, p := range *l {
		s = append(s, p.String())
	}
	return strings.Join(s, ",")
}

func (l *prefixList) Set(v string) error {
	for _, f := range strings.Split(v, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			a, aerr := netip.ParseAddr(f)
			if aerr != nil {
				return fmt.Errorf("%q is not an address or CIDR prefix", f)
			}
			p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		*l = append(*l, p.Masked())
	}
	return nil
}
