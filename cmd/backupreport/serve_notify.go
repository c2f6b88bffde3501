package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/backupreport/backupreport/report/email"
	"github.com/backupreport/backupreport/report/notify"
	"github.com/backupreport/backupreport/report/webhook"
	"github.com/backupreport/backupreport/server"
	"github.com/backupreport/backupreport/store"
)

// smtpFlags are the email settings serve and "report send" share.
type smtpFlags struct {
	addr, tls, user, passwordFile, from, baseURL *string
	reportTo                                     stringList
	attempts                                     *int
	retryWait                                    *time.Duration
}

func addSMTPFlags(fs *flag.FlagSet, attempts int, wait time.Duration) *smtpFlags {
	f := &smtpFlags{
		addr:         fs.String("smtp-addr", "", "SMTP server `HOST:PORT`; emails are off without it"),
		tls:          fs.String("smtp-tls", email.TLSStartTLS, "SMTP transport security: none, starttls (required, no fallback) or tls (implicit, usually port 465)"),
		user:         fs.String("smtp-user", "", "SMTP user name; empty: no authentication"),
		passwordFile: fs.String("smtp-password-file", "", "`FILE` holding the SMTP password (there is no password flag: it would show in ps)"),
		from:         fs.String("smtp-from", "", "sender address of the reports, e.g. backupreport@example.com"),
		baseURL:      fs.String("base-url", "", "address of the web interface, for links in emails and webhooks, e.g. https://backups.example.com"),
		attempts:     fs.Int("retry-attempts", attempts, "attempts per email or webhook before it is recorded as failed"),
		retryWait:    fs.Duration("retry-wait", wait, "wait after the first failed attempt; doubled after each further one (at most 30m)"),
	}
	fs.Var(&f.reportTo, "report-to", "team `ADDRESS` that receives every report (repeatable, or comma-separated)")
	return f
}

// config reads the password file and returns the SMTP configuration.
func (f *smtpFlags) config() (email.Config, error) {
	c := email.Config{Addr: *f.addr, TLS: *f.tls, User: *f.user, From: *f.from}
	if *f.passwordFile != "" {
		b, err := os.ReadFile(*f.passwordFile)
		if err != nil {
			return c, fmt.Errorf("--smtp-password-file: %w", err)
		}
		c.Password = strings.TrimRight(string(b), "\r\n")
	}
	if c.User != "" && c.Password == "" {
		return c, errors.New("--smtp-user needs --smtp-password-file")
	}
	return c, c.Validate()
}

func (f *smtpFlags) backoff() notify.Backoff {
	return notify.Backoff{Attempts: *f.attempts, First: *f.retryWait, Max: 30 * time.Minute}
}

// splitList splits repeated and comma-separated values, dropping blanks.
func splitList(vs []string) []string {
	var out []string
	for _, v := range vs {
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" && !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	return out
}

// mailOptions are serve's flags for the missing-report check, emails and
// webhooks.
type mailOptions struct {
	checkAt, reportAt, reports *string
	smtp                       *smtpFlags
	webhookURLs                stringList
	webhookSecretFile          *string
}

func addMailFlags(fs *flag.FlagSet) *mailOptions {
	o := &mailOptions{
		checkAt:  fs.String("check-at", "07:00", "daily `HH:MM` (in --timezone) of the missing-report check; it also runs at start-up"),
		reportAt: fs.String("report-at", "07:15", "daily `HH:MM` (in --timezone) at which the failure reports are emailed"),
		reports:  fs.String("reports", "daily,three-day", "reports emailed at --report-at (comma-separated; empty: none)"),
		smtp:     addSMTPFlags(fs, 6, 30*time.Second),
	}
	fs.Var(&o.webhookURLs, "webhook-url", "`URL` that gets a signed JSON POST when a server changes state (repeatable)")
	o.webhookSecretFile = fs.String("webhook-secret-file", "", "`FILE` holding the webhook signing secret (required with --webhook-url)")
	return o
}

// startScheduler turns serve's flags into a notify.Config and starts the
// schedule on whichever node leads it; see notify.StartLed for the
// returned function.
func startScheduler(ctx context.Context, db *store.DB, log *slog.Logger, loc *time.Location, o *mailOptions, storage *server.StorageJob) (func(context.Context), error) {
	checkAt, err := notify.ParseClock(*o.checkAt)
	if err != nil {
		return nil, fmt.Errorf("--check-at: %w", err)
	}
	reportAt, err := notify.ParseClock(*o.reportAt)
	if err != nil {
		return nil, fmt.Errorf("--report-at: %w", err)
	}
	if !checkAt.Before(reportAt) {
		return nil, fmt.Errorf("--report-at %s must come after --check-at %s: the reports count the nights the check records as missing", *o.reportAt, *o.checkAt)
	}
	kinds := splitList([]string{*o.reports})
	for _, k := range kinds {
		if k != store.ReportDaily && k != store.ReportThreeDay {
			return nil, fmt.Errorf("--reports: unknown report %q (want daily, three-day)", k)
		}
	}
	c := notify.Config{DB: db, Log: log, Location: loc, CheckAt: checkAt, ReportAt: reportAt, Reports: kinds, Node: nodeName()}
	if *o.smtp.addr != "" && len(kinds) > 0 {
		cfg, err := o.smtp.config()
		if err != nil {
			return nil, err
		}
		c.Mailer = &notify.Mailer{DB: db, Log: log, Location: loc, SMTP: cfg, Team: splitList(o.smtp.reportTo), BaseURL: *o.smtp.baseURL, Backoff: o.smtp.backoff()}
	} else {
		log.Info("failure emails are off (no --smtp-addr or no --reports)")
	}
	if urls := splitList(o.webhookURLs); len(urls) > 0 {
		if *o.webhookSecretFile == "" {
			return nil, errors.New("--webhook-url needs --webhook-secret-file")
		}
		secret, err := os.ReadFile(*o.webhookSecretFile)
		if err != nil {
			return nil, fmt.Errorf("--webhook-secret-file: %w", err)
		}
		if secret = []byte(strings.TrimRight(string(secret), "\r\n")); len(secret) == 0 {
			return nil, errors.New("--webhook-secret-file is empty")
		}
		c.Notifier = &notify.Notifier{DB: db, Log: log, URLs: urls, BaseURL: *o.smtp.baseURL, Backoff: o.smtp.backoff(),
			Client: &webhook.Client{Secret: secret, UserAgent: "backupreport/" + version}}
	}
	if storage != nil {
		c.Maintain, c.MaintainEvery = storage.Run, storageEvery
	}
	return notify.StartLed(ctx, c), nil
}

// nodeName names this serve process in report claims and logs: the host
// name and the process ID.
func nodeName() string {
	host, err := os.Hostname()
	if err != nil {
		host = "unknown"
	}
	return fmt.Sprintf("%s:%d", host, os.Getpid())
}
