package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/backupreport/backupreport/report/email"
	"github.com/backupreport/backupreport/report/webhook"
	"github.com/backupreport/backupreport/store"
)

// Log keys of the scheduler.
const (
	logKind     = "kind"
	logCustomer = "customer"
	logServer   = "server"
	logNight    = "night"
	logTo       = "to"
	logURL      = "url"
	logErr      = "err"
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

func (f *smtpFlags) backoff() email.Backoff {
	return email.Backoff{Attempts: *f.attempts, First: *f.retryWait, Max: 30 * time.Minute}
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

// mailer builds the failure reports from the store and delivers them,
// recording every attempt in the email log.
type mailer struct {
	db      *store.DB
	log     *slog.Logger
	loc     *time.Location
	cfg     email.Config
	team    []string
	baseURL string
	backoff email.Backoff
	// dryRun writes the messages to out instead of sending them.
	dryRun bool
	out    io.Writer
}

// delivery is one message of a report and who gets it.
type delivery struct {
	to  []string
	msg email.Message
}

// plan builds the messages of a report as of now. With override set, the
// whole report goes to those addresses only. Otherwise the team list gets
// the whole report (also when nothing failed), and each CSR or TSR who
// opted in and is not on the team list gets the part about their own
// customers, when it lists anything.
func (m *mailer) plan(ctx context.Context, kind string, now time.Time, override []string) ([]delivery, error) {
	failures, err := m.db.FailureReport(ctx, kind, now, m.loc)
	if err != nil {
		return nil, err
	}
	recovered, err := m.db.Recovered(ctx, now, m.loc)
	if err != nil {
		return nil, err
	}
	// Staff's edits of the code table win, as on the pages.
	table, err := m.db.CodeTable(ctx)
	if err != nil {
		return nil, err
	}
	r := email.Report{Kind: kind, At: now, Location: m.loc, Failures: failures, Recovered: recovered, BaseURL: m.baseURL, Codes: table}
	var out []delivery
	add := func(to []string, r email.Report) error {
		msg, err := email.Render(r)
		if err != nil {
			return fmt.Errorf("render %s report: %w", kind, err)
		}
		out = append(out, delivery{to: to, msg: msg})
		return nil
	}
	if len(override) > 0 {
		return out, add(override, r)
	}
	if len(m.team) > 0 {
		if err := add(m.team, r); err != nil {
			return nil, err
		}
	}
	staff, err := m.db.ReportRecipients(ctx)
	if err != nil {
		return nil, err
	}
	for _, s := range staff {
		if slices.ContainsFunc(m.team, func(t string) bool { return strings.EqualFold(t, s.Email) }) {
			continue
		}
		if own := r.ForCustomers(s.Customers); !own.Empty() {
			if err := add([]string{s.Email}, own); err != nil {
				return nil, err
			}
		}
	}
	if len(out) == 0 && len(m.team) == 0 && len(staff) == 0 {
		return nil, errors.New("no recipients: set --report-to, or let CSRs and TSRs opt in to emails")
	}
	return out, nil
}

// sendReport builds and delivers a report; it returns the first error
// after trying every message.
func (m *mailer) sendReport(ctx context.Context, kind string, now time.Time, override []string) error {
	ds, err := m.plan(ctx, kind, now, override)
	if err != nil {
		return err
	}
	var first error
	for _, d := range ds {
		if m.dryRun {
			if err := email.WritePreview(m.out, m.cfg.From, d.to, d.msg); err != nil {
				return err
			}
			continue
		}
		if err := m.deliver(ctx, kind, d.to, d.msg); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// deliver sends one message with retries, recording each attempt.
func (m *mailer) deliver(ctx context.Context, kind string, to []string, msg email.Message) error {
	id, err := m.db.StartDelivery(ctx, kind, to, msg.Subject)
	if err != nil {
		return err
	}
	ended := false
	err = email.Retry(ctx, m.backoff, func(ctx context.Context) error { return email.Send(ctx, m.cfg, to, msg) },
		func(n int, err error, final bool) {
			ended = final
			if rerr := m.db.RecordAttempt(context.WithoutCancel(ctx), id, err, final); rerr != nil {
				m.log.Error("email log", logErr, rerr)
			}
			if err != nil {
				m.log.Warn("email attempt failed", logKind, kind, logTo, strings.Join(to, ", "), "attempt", n, "final", final, logErr, err)
			}
		})
	if err != nil && !ended {
		m.db.AbandonDelivery(context.WithoutCancel(ctx), id, err.Error())
	}
	if err == nil {
		m.log.Info("email sent", logKind, kind, logTo, strings.Join(to, ", "))
	}
	return err
}

// notifier posts state changes to the webhook URLs.
type notifier struct {
	db      *store.DB
	log     *slog.Logger
	urls    []string
	client  *webhook.Client
	baseURL string
	wg      sync.WaitGroup
}

// poll takes the state changes since the last poll and posts each to every
// URL in the background.
func (n *notifier) poll(ctx context.Context, now time.Time) {
	changes, err := n.db.TakeStateChanges(ctx, now)
	if err != nil {
		n.log.Error("state changes", logErr, err)
		return
	}
	for _, c := range changes {
		ev := n.event(c)
		for _, u := range n.urls {
			n.wg.Add(1)
			go func() {
				defer n.wg.Done()
				n.post(ctx, u, ev)
			}()
		}
	}
}

func (n *notifier) event(c store.StateChange) webhook.Event {
	ev := webhook.Event{Event: webhook.EventStateChanged, Customer: c.Customer, Server: c.Server, From: c.From, To: c.To,
		Code: c.Code, ResultID: c.ResultID, At: c.At}
	if base := strings.TrimRight(n.baseURL, "/"); base != "" {
		if c.ResultID != nil {
			ev.URL = base + "/results/" + strconv.FormatInt(*c.ResultID, 10)
		} else {
			ev.URL = base + "/servers/" + pathEscape(c.Customer) + "/" + pathEscape(c.Server)
		}
	}
	return ev
}

func (n *notifier) post(ctx context.Context, u string, ev webhook.Event) {
	subject := fmt.Sprintf("%s %s/%s %s -> %s", ev.Event, ev.Customer, ev.Server, ev.From, ev.To)
	// A webhook URL is often a secret itself (Slack, Teams): logs and the
	// delivery log name its host only.
	shown := redactURL(u)
	id, err := n.db.StartDelivery(ctx, store.KindWebhook, []string{shown}, subject)
	if err != nil {
		n.log.Error("email log", logErr, err)
		return
	}
	ended := false
	err = n.client.Post(ctx, u, ev, func(k int, err error, final bool) {
		ended = final
		if rerr := n.db.RecordAttempt(context.WithoutCancel(ctx), id, err, final); rerr != nil {
			n.log.Error("email log", logErr, rerr)
		}
	})
	if err != nil {
		if !ended {
			n.db.AbandonDelivery(context.WithoutCancel(ctx), id, err.Error())
		}
		n.log.Warn("webhook failed", logURL, shown, logCustomer, ev.Customer, logServer, ev.Server, logErr, err)
		return
	}
	n.log.Info("webhook sent", logURL, shown, logCustomer, ev.Customer, logServer, ev.Server, "to", ev.To)
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

// startScheduler starts the missing-report check and the email schedule;
// it stops when ctx ends. The returned function waits, until its own
// context ends, for the scheduler, a report being sent and webhooks being
// posted to finish, so that none outlives the database.
func startScheduler(ctx context.Context, a *app, db *store.DB, log *slog.Logger, loc *time.Location, o *mailOptions, storage *storageJob) (func(context.Context), error) {
	var wg sync.WaitGroup // the scheduler and report sending
	checkAt, err := parseClock(*o.checkAt)
	if err != nil {
		return nil, fmt.Errorf("--check-at: %w", err)
	}
	reportAt, err := parseClock(*o.reportAt)
	if err != nil {
		return nil, fmt.Errorf("--report-at: %w", err)
	}
	if reportAt.hour*60+reportAt.min <= checkAt.hour*60+checkAt.min {
		return nil, fmt.Errorf("--report-at %s must come after --check-at %s: the reports count the nights the check records as missing", *o.reportAt, *o.checkAt)
	}
	kinds := splitList([]string{*o.reports})
	for _, k := range kinds {
		if k != store.ReportDaily && k != store.ReportThreeDay {
			return nil, fmt.Errorf("--reports: unknown report %q (want daily, three-day)", k)
		}
	}
	var m *mailer
	if *o.smtp.addr != "" && len(kinds) > 0 {
		cfg, err := o.smtp.config()
		if err != nil {
			return nil, err
		}
		m = &mailer{db: db, log: log, loc: loc, cfg: cfg, team: splitList(o.smtp.reportTo), baseURL: *o.smtp.baseURL, backoff: o.smtp.backoff()}
	} else {
		log.Info("failure emails are off (no --smtp-addr or no --reports)")
	}
	var n *notifier
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
		b := o.smtp.backoff()
		n = &notifier{db: db, log: log, urls: urls, baseURL: *o.smtp.baseURL,
			client: &webhook.Client{Secret: secret, Attempts: b.Attempts, FirstWait: b.First, MaxWait: b.Max, UserAgent: "backupreport/" + version}}
	}
	s := &scheduler{
		checkAt: checkAt, reportAt: reportAt, loc: loc, now: time.Now, sleepUntil: sleepUntil,
		check: func(ctx context.Context, now time.Time) {
			got, err := db.RecordMissing(ctx, now, loc)
			if err != nil {
				log.Error("missing check", logErr, err)
				return
			}
			for _, mn := range got {
				log.Info("missing night recorded", logCustomer, mn.Customer, logServer, mn.Server, logNight, mn.Night)
			}
			log.Info("missing check done", "recorded", len(got))
		},
	}
	if m != nil {
		s.report = func(ctx context.Context, now time.Time) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for _, k := range kinds {
					if err := m.sendReport(ctx, k, now, nil); err != nil {
						log.Error("failure report", logKind, k, logErr, err)
					}
				}
			}()
		}
	}
	if n != nil {
		s.poll, s.pollEvery = n.poll, time.Minute
	}
	if storage != nil {
		// The job runs on its own goroutine: a first retention run on a
		// large database takes minutes and must not delay the missing
		// check or the reports. A run still going when the next is due
		// is not doubled.
		var running atomic.Bool
		s.maintain = func(ctx context.Context, now time.Time) {
			if !running.CompareAndSwap(false, true) {
				log.Info("storage job still running; this run is skipped")
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer running.Store(false)
				storage.run(ctx, now)
			}()
		}
		s.maintainEvery = storageEvery
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.run(ctx)
	}()
	stop := func(wctx context.Context) {
		done := make(chan struct{})
		go func() {
			wg.Wait()
			if n != nil {
				n.wg.Wait()
			}
			close(done)
		}()
		select {
		case <-done:
		case <-wctx.Done():
			log.Warn("stopping with emails or webhooks still in flight")
		}
	}
	return stop, nil
}

func pathEscape(s string) string { return url.PathEscape(s) }

// redactURL keeps a URL's scheme and host and hides the rest, which may
// carry a token.
func redactURL(u string) string {
	p, err := url.Parse(u)
	if err != nil || p.Host == "" {
		return "(webhook URL)"
	}
	if p.Path == "" || p.Path == "/" {
		return p.Scheme + "://" + p.Host + "/"
	}
	return p.Scheme + "://" + p.Host + "/…"
}

// clock is a time of day.
type clock struct{ hour, min int }

func parseClock(s string) (clock, error) {
	t, err := time.Parse("15:04", s)
	if err != nil {
		return clock{}, fmt.Errorf("%q: want HH:MM", s)
	}
	return clock{t.Hour(), t.Minute()}, nil
}

// nextAt returns the first moment strictly after now at which the wall
// clock in loc shows c. On a day whose clocks skip c (a DST gap), it is the
// moment the clock would have shown c had it not jumped (02:30 on a day
// that goes from 02:00 to 03:00 is 03:30); on a day that shows c twice, it
// is the first time.
func nextAt(now time.Time, c clock, loc *time.Location) time.Time {
	l := now.In(loc)
	for d := 0; ; d++ {
		t := time.Date(l.Year(), l.Month(), l.Day()+d, c.hour, c.min, 0, 0, loc)
		if t.Hour() != c.hour || t.Minute() != c.min {
			_, before := t.Zone()
			_, after := t.Add(6 * time.Hour).Zone()
			t = t.Add(time.Duration(after-before) * time.Second)
		}
		if t.After(now) {
			return t
		}
	}
}

// scheduler runs the missing check at start-up and daily at checkAt, the
// reports daily at reportAt, the state poll every pollEvery and the
// storage job at start-up and every maintainEvery. Its clock
// and its sleeping are fields, so tests drive it without waiting.
type scheduler struct {
	checkAt, reportAt clock
	loc               *time.Location
	now               func() time.Time
	sleepUntil        func(ctx context.Context, t time.Time) error
	check             func(ctx context.Context, now time.Time)
	report            func(ctx context.Context, now time.Time) // nil: no emails
	poll              func(ctx context.Context, now time.Time) // nil: no webhooks
	pollEvery         time.Duration
	maintain          func(ctx context.Context, now time.Time) // nil: no storage job
	maintainEvery     time.Duration
}

// run works until ctx ends. A report time passed while the process was
// down is not made up for ("backupreport report send" is); the missing
// check catches up on its own, since it looks back several nights.
func (s *scheduler) run(ctx context.Context) {
	now := s.now()
	s.check(ctx, now)
	if s.poll != nil {
		s.poll(ctx, now)
	}
	nextCheck, nextReport := nextAt(now, s.checkAt, s.loc), nextAt(now, s.reportAt, s.loc)
	nextPoll := now.Add(s.pollEvery)
	if s.maintain != nil {
		s.maintain(ctx, now)
	}
	nextMaintain := now.Add(s.maintainEvery)
	for {
		next := nextCheck
		if s.report != nil && nextReport.Before(next) {
			next = nextReport
		}
		if s.poll != nil && nextPoll.Before(next) {
			next = nextPoll
		}
		if s.maintain != nil && nextMaintain.Before(next) {
			next = nextMaintain
		}
		if err := s.sleepUntil(ctx, next); err != nil {
			return
		}
		now = s.now()
		checked := false
		if !now.Before(nextCheck) {
			s.check(ctx, now)
			nextCheck, checked = nextAt(now, s.checkAt, s.loc), true
		}
		if s.report != nil && !now.Before(nextReport) {
			s.report(ctx, now)
			nextReport = nextAt(now, s.reportAt, s.loc)
		}
		if s.poll != nil && (checked || !now.Before(nextPoll)) {
			s.poll(ctx, now)
			nextPoll = now.Add(s.pollEvery)
		}
		if s.report == nil {
			nextReport = nextAt(now, s.reportAt, s.loc)
		}
		if s.maintain != nil && !now.Before(nextMaintain) {
			s.maintain(ctx, now)
			nextMaintain = now.Add(s.maintainEvery)
		}
	}
}

// sleepUntil waits until t by the wall clock or until ctx ends.
func sleepUntil(ctx context.Context, t time.Time) error {
	timer := time.NewTimer(time.Until(t))
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}
