package main

import (
	"flag"
	"fmt"
	"log/slog"
	"time"

	"github.com/backupreport/backupreport/server"
	"github.com/backupreport/backupreport/store/logkey"
)

// limitOptions are serve's flags for the SSH side's connection and
// session limits. Every one is on by default.
type limitOptions struct {
	startups          startupsFlag
	perSource         *int
	maxConns          *int
	grace             *time.Duration
	maxSessions       *int
	maxOpenSessions   *int
	maxSessionsPerKey *int
	queueTime         *time.Duration
	commandTimeout    *time.Duration
	idleTimeout       *time.Duration
	maxUploadTime     *time.Duration
	revokeCheck       *time.Duration
}

func addLimitFlags(fs *flag.FlagSet) *limitOptions {
	o := &limitOptions{startups: startupsFlag(server.DefaultStartups)}
	fs.Var(&o.startups, "max-startups", "connections not logged in yet, as OpenSSH's `start:rate:full`: from start on, new ones are\n"+
		"dropped at accept with rate% probability, growing to 100% at full")
	o.perSource = fs.Int("max-startups-per-source", server.DefaultStartupsPerSource, "connections not logged in yet per source address (IPv6: per /64); -1: no cap")
	o.maxConns = fs.Int("max-connections", 0, "SSH connections open at once (0: the file limit less a reserve for the web side and the database)")
	o.grace = fs.Duration("login-grace-time", server.DefaultLoginGraceTime, "time a connection has for banner, key exchange and login")
	o.maxSessions = fs.Int("max-sessions", server.DefaultMaxSessions, "sessions open at once on one connection (OpenSSH's MaxSessions)")
	o.maxOpenSessions = fs.Int("max-open-sessions", server.DefaultMaxOpenSessions, "sessions open at once on the whole server; more wait for a slot")
	o.maxSessionsPerKey = fs.Int("max-sessions-per-key", server.DefaultMaxSessionsPerKey, "sessions one key may hold open at once; more wait for a slot")
	o.queueTime = fs.Duration("session-queue-time", server.DefaultSessionQueueTime, "how long a new session waits for a free slot before it is refused")
	o.commandTimeout = fs.Duration("command-timeout", server.DefaultCommandTimeout, "a session that sends no command within this time is closed")
	o.idleTimeout = fs.Duration("idle-timeout", server.DefaultIdleTimeout, "a connection on which nothing moves for this long is closed")
	o.maxUploadTime = fs.Duration("max-upload-time", server.DefaultMaxUploadTime, "longest an upload may take; a longer one ends with an error and is recorded as failed")
	o.revokeCheck = fs.Duration("revoke-check", server.DefaultRevokeCheck, "how often open connections are checked for revoked keys (their connections are closed)")
	return o
}

// apply copies the limits into cfg. files is the process's file limit,
// from which the connection cap is derived when --max-connections is 0.
func (o *limitOptions) apply(cfg *server.Config, files uint64, log *slog.Logger) error {
	for name, d := range map[string]*time.Duration{"login-grace-time": o.grace, "session-queue-time": o.queueTime,
		"command-timeout": o.commandTimeout, "idle-timeout": o.idleTimeout, "max-upload-time": o.maxUploadTime, "revoke-check": o.revokeCheck} {
		if *d <= 0 {
			return fmt.Errorf("--%s %s: must be more than 0", name, *d)
		}
	}
	for name, n := range map[string]*int{"max-sessions": o.maxSessions, "max-open-sessions": o.maxOpenSessions, "max-sessions-per-key": o.maxSessionsPerKey} {
		if *n <= 0 {
			return fmt.Errorf("--%s %d: must be more than 0", name, *n)
		}
	}
	cfg.MaxStartups = server.Startups(o.startups)
	cfg.MaxStartupsPerSource = *o.perSource
	cfg.MaxConnections = *o.maxConns
	if cfg.MaxConnections == 0 {
		cfg.MaxConnections = connectionsFor(files)
	}
	cfg.LoginGraceTime, cfg.SessionQueueTime = *o.grace, *o.queueTime
	cfg.MaxSessions, cfg.MaxOpenSessions, cfg.MaxSessionsPerKey = *o.maxSessions, *o.maxOpenSessions, *o.maxSessionsPerKey
	cfg.CommandTimeout, cfg.IdleTimeout, cfg.MaxUploadTime, cfg.RevokeCheck = *o.commandTimeout, *o.idleTimeout, *o.maxUploadTime, *o.revokeCheck
	log.Info("ssh limits", logkey.MaxStartups, cfg.MaxStartups.String(), logkey.MaxStartupsPerSource, cfg.MaxStartupsPerSource,
		logkey.MaxConnections, cfg.MaxConnections, logkey.FileLimit, files, logkey.LoginGraceTime, cfg.LoginGraceTime.String(),
		logkey.MaxSessions, cfg.MaxSessions, logkey.MaxOpenSessions, cfg.MaxOpenSessions, logkey.MaxSessionsPerKey, cfg.MaxSessionsPerKey,
		logkey.IdleTimeout, cfg.IdleTimeout.String(), logkey.MaxUploadTime, cfg.MaxUploadTime.String())
	return nil
}

// connectionsFor is the SSH connection cap for a file limit: it keeps a
// reserve of an eighth, at least 256 handles, for the web side, /healthz,
// the database and the logs.
func connectionsFor(files uint64) int {
	if files == 0 {
		return 0
	}
	reserve := max(files/8, 256)
	if files <= reserve+64 {
		return 64
	}
	return int(files - reserve)
}

// startupsFlag is --max-startups.
type startupsFlag server.Startups

func (f *startupsFlag) String() string { return server.Startups(*f).String() }

func (f *startupsFlag) Set(v string) error {
	s, err := server.ParseStartups(v)
	if err != nil {
		return err
	}
	*f = startupsFlag(s)
	return nil
}
