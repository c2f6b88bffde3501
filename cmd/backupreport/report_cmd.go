package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"time"

	"github.com/backupreport/backupreport/report/email"
	"github.com/backupreport/backupreport/report/notify"
	"github.com/backupreport/backupreport/store"
)

func init() {
	register(&command{name: "report", summary: "email the daily or three-day failure report", run: runGroup("report", map[string]verb{
		"send": {usage: "daily|three-day [--to ADDR] [--dry-run]", run: runReportSend},
	})})
}

func runReportSend(ctx context.Context, a *app, args []string) int {
	var sf *smtpFlags
	var to stringList
	var dryRun *bool
	var at, tz *string
	return a.withDB(ctx, "report send", "daily|three-day [--to ADDR] [--dry-run]",
		"Builds the daily or three-day failure report as serve does at --report-at and emails it:\n"+
			"the whole report to --report-to, and to each CSR or TSR who opted in the part about their\n"+
			"own customers. --to sends the whole report to that address only. --dry-run prints the\n"+
			"messages (both parts) instead of sending them. Every attempt is kept in the email log.",
		args, 1, func(fs *flag.FlagSet) {
			sf = addSMTPFlags(fs, 3, 2*time.Second)
			fs.Var(&to, "to", "send only to this `ADDRESS` (repeatable, or comma-separated)")
			dryRun = fs.Bool("dry-run", false, "print the messages instead of sending them")
			at = fs.String("at", "", "build the report as of this RFC 3339 `TIME` (default: now)")
			tz = fs.String("timezone", "", "time zone of nights and times, as serve's --timezone")
		},
		func(db *store.DB, pos []string) int {
			kind := pos[0]
			if kind != store.ReportDaily && kind != store.ReportThreeDay {
				return a.fail("unknown report %q: want daily or three-day", kind)
			}
			loc, err := loadLocation(*tz)
			if err != nil {
				return a.fail("%v", err)
			}
			now := time.Now()
			if *at != "" {
				if now, err = time.Parse(time.RFC3339, *at); err != nil {
					return a.fail("--at %q: want an RFC 3339 time", *at)
				}
			}
			m := &notify.Mailer{DB: db, Log: slog.New(slog.NewTextHandler(a.stderr, nil)), Location: loc, Team: splitList(sf.reportTo),
				BaseURL: *sf.baseURL, Backoff: sf.backoff(), DryRun: *dryRun, Out: a.stdout}
			if *dryRun {
				m.SMTP.From = *sf.from
				if m.SMTP.From == "" {
					m.SMTP.From = "backupreport@localhost"
				}
			} else {
				if *sf.addr == "" {
					return a.fail("--smtp-addr is required (or --dry-run)")
				}
				if m.SMTP, err = sf.config(); err != nil {
					return a.fail("%v", err)
				}
			}
			if err := m.Send(ctx, kind, now, splitList(to)); err != nil {
				if errors.Is(err, context.Canceled) {
					return a.fail("%s report: stopped", kind)
				}
				return a.fail("%s report: %v", kind, err)
			}
			if !*dryRun {
				fmt.Fprintf(a.stdout, "%s sent\n", email.Title(kind))
			}
			return exitOK
		})
}
