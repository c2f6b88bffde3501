// Package notify tells people what the store knows: the failure reports
// by email (Mailer), state changes by webhook (Notifier), and the daily
// schedule that runs them with the missing-report check (Start). Every
// delivery is tried with one backoff (Retry) and every attempt is kept in
// the delivery log. Configuration comes in as struct fields; this package
// reads no flags or files.
package notify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/backupreport/backupreport/report/email"
	"github.com/backupreport/backupreport/report/webhook"
	"github.com/backupreport/backupreport/store"
	"github.com/backupreport/backupreport/store/logkey"
)

// Mailer builds the failure reports from the store and delivers them,
// recording every attempt in the email log. Its fields are set once,
// before the first Send.
type Mailer struct {
	DB       *store.DB
	Log      *slog.Logger
	Location *time.Location // nights are counted here
	SMTP     email.Config
	Team     []string // get the whole report, every time
	BaseURL  string   // of the web interface, for links; may be empty
	Backoff  Backoff
	// DryRun writes the messages to Out instead of sending them.
	DryRun bool
	Out    io.Writer
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
func (m *Mailer) plan(ctx context.Context, kind string, now time.Time, override []string) ([]delivery, error) {
	failures, err := m.DB.FailureReport(ctx, kind, now, m.Location)
	if err != nil {
		return nil, err
	}
	recovered, err := m.DB.Recovered(ctx, now, m.Location)
	if err != nil {
		return nil, err
	}
	warned, err := m.DB.Warned(ctx, now)
	if err != nil {
		return nil, err
	}
	// Staff's edits of the code table and warning texts win, as on the
	// pages.
	table, err := m.DB.CodeTable(ctx)
	if err != nil {
		return nil, err
	}
	texts, err := m.DB.WarningTable(ctx)
	if err != nil {
		return nil, err
	}
	r := email.Report{Kind: kind, At: now, Location: m.Location, Failures: failures, Recovered: recovered, Warned: warned,
		BaseURL: m.BaseURL, Codes: table, WarningTexts: texts}
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
	if len(m.Team) > 0 {
		if err := add(m.Team, r); err != nil {
			return nil, err
		}
	}
	staff, err := m.DB.ReportRecipients(ctx)
	if err != nil {
		return nil, err
	}
	for _, s := range staff {
		if slices.ContainsFunc(m.Team, func(t string) bool { return strings.EqualFold(t, s.Email) }) {
			continue
		}
		if own := r.ForCustomers(s.Customers); !own.Empty() {
			if err := add([]string{s.Email}, own); err != nil {
				return nil, err
			}
		}
	}
	if len(out) == 0 && len(m.Team) == 0 && len(staff) == 0 {
		return nil, errors.New("no recipients: set --report-to, or let CSRs and TSRs opt in to emails")
	}
	return out, nil
}

// Send builds the report of kind (store.ReportDaily, store.ReportThreeDay)
// as of now and delivers it: with override set, the whole report to those
// addresses only; otherwise to the team and to each CSR or TSR who opted
// in (see plan). It returns the first error after trying every message.
func (m *Mailer) Send(ctx context.Context, kind string, now time.Time, override []string) error {
	ds, err := m.plan(ctx, kind, now, override)
	if err != nil {
		return err
	}
	var first error
	for _, d := range ds {
		if m.DryRun {
			if err := email.WritePreview(m.Out, m.SMTP.From, d.to, d.msg); err != nil {
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
func (m *Mailer) deliver(ctx context.Context, kind string, to []string, msg email.Message) error {
	id, err := m.DB.StartDelivery(ctx, kind, to, msg.Subject)
	if err != nil {
		return err
	}
	ended := false
	err = Retry(ctx, m.Backoff, func(ctx context.Context) error { return email.Send(ctx, m.SMTP, to, msg) },
		func(n int, err error, final bool) {
			ended = final
			if rerr := m.DB.RecordAttempt(context.WithoutCancel(ctx), id, err, final); rerr != nil {
				m.Log.Error("email log", logkey.Err, rerr)
			}
			if err != nil {
				m.Log.Warn("email attempt failed", logkey.Kind, kind, logkey.To, strings.Join(to, ", "), logkey.Attempt, n, logkey.Final, final, logkey.Err, err)
			}
		})
	if err != nil && !ended {
		m.DB.AbandonDelivery(context.WithoutCancel(ctx), id, err.Error())
	}
	if err == nil {
		m.Log.Info("email sent", logkey.Kind, kind, logkey.To, strings.Join(to, ", "))
	}
	return err
}

// Notifier posts state changes to the webhook URLs. Its fields are set
// once, before the first Poll.
type Notifier struct {
	DB      *store.DB
	Log     *slog.Logger
	URLs    []string
	Client  *webhook.Client
	Backoff Backoff
	BaseURL string // of the web interface, for links; may be empty
	wg      sync.WaitGroup
}

// Poll takes the state changes since the last poll and posts each to every
// URL in the background; Wait waits for those posts.
func (n *Notifier) Poll(ctx context.Context, now time.Time) {
	changes, err := n.DB.TakeStateChanges(ctx, now)
	if err != nil {
		n.Log.Error("state changes", logkey.Err, err)
		return
	}
	for _, c := range changes {
		ev := n.event(c)
		for _, u := range n.URLs {
			n.wg.Add(1)
			go func() {
				defer n.wg.Done()
				n.post(ctx, u, ev)
			}()
		}
	}
}

// Wait waits until the posts Poll started have ended.
func (n *Notifier) Wait() { n.wg.Wait() }

func (n *Notifier) event(c store.StateChange) webhook.Event {
	ev := webhook.Event{Event: webhook.EventStateChanged, Customer: c.Customer, Server: c.Server, From: c.From, To: c.To,
		Code: c.Code, ResultID: c.ResultID, At: c.At, Warnings: []string{}}
	for _, k := range c.Warnings {
		ev.Warnings = append(ev.Warnings, string(k))
	}
	if base := strings.TrimRight(n.BaseURL, "/"); base != "" {
		if c.ResultID != nil {
			ev.URL = base + "/results/" + strconv.FormatInt(*c.ResultID, 10)
		} else {
			ev.URL = base + "/servers/" + pathEscape(c.Customer) + "/" + pathEscape(c.Server)
		}
	}
	return ev
}

func (n *Notifier) post(ctx context.Context, u string, ev webhook.Event) {
	subject := fmt.Sprintf("%s %s/%s %s -> %s", ev.Event, ev.Customer, ev.Server, ev.From, ev.To)
	// A webhook URL is often a secret itself (Slack, Teams): logs and the
	// delivery log name its host only.
	shown := webhook.Redact(u)
	id, err := n.DB.StartDelivery(ctx, store.KindWebhook, []string{shown}, subject)
	if err != nil {
		n.Log.Error("email log", logkey.Err, err)
		return
	}
	ended := false
	try := func(ctx context.Context) error {
		err := n.Client.Post(ctx, u, ev)
		if webhook.Final(err) {
			return Permanent(err)
		}
		return err
	}
	err = Retry(ctx, n.Backoff, try, func(k int, err error, final bool) {
		ended = final
		if rerr := n.DB.RecordAttempt(context.WithoutCancel(ctx), id, err, final); rerr != nil {
			n.Log.Error("email log", logkey.Err, rerr)
		}
	})
	if err != nil {
		if !ended {
			n.DB.AbandonDelivery(context.WithoutCancel(ctx), id, err.Error())
		}
		n.Log.Warn("webhook failed", logkey.URL, shown, logkey.Customer, ev.Customer, logkey.Server, ev.Server, logkey.Err, err)
		return
	}
	n.Log.Info("webhook sent", logkey.URL, shown, logkey.Customer, ev.Customer, logkey.Server, ev.Server, logkey.To, ev.To)
}

// Config is what Start runs. Mailer, Notifier and Maintain are optional.
type Config struct {
	DB       *store.DB
	Log      *slog.Logger
	Location *time.Location // of CheckAt, ReportAt and the nights
	// CheckAt is the daily time of the missing-report check (it also runs
	// at start); ReportAt, which must come after it, that of the reports.
	CheckAt, ReportAt Clock
	Reports           []string  // kinds Mailer sends at ReportAt, in order
	Mailer            *Mailer   // nil: no emails
	Notifier          *Notifier // nil: no webhooks; polled every minute
	// Maintain (the storage job) runs at start and every MaintainEvery on
	// its own goroutine; a run still going when the next is due is skipped.
	Maintain      func(ctx context.Context, now time.Time)
	MaintainEvery time.Duration
	// Node names this process in the report claims (store.ClaimReport),
	// e.g. host name and PID.
	Node string
	// LeadRetry is StartLed's retry (0: the constant LeadRetry).
	LeadRetry time.Duration
}

// pollEvery is how often the Notifier takes the state changes.
const pollEvery = time.Minute

// Start starts the missing-report check, the email schedule, the webhook
// poll and the storage job; they stop when ctx ends. The returned function
// waits, until its own context ends, for the scheduler, a report being
// sent, the storage job and webhooks being posted to finish, so that none
// outlives the database.
func Start(ctx context.Context, c Config) func(context.Context) {
	var wg sync.WaitGroup // the scheduler, report sending and the storage job
	db, log, loc := c.DB, c.Log, c.Location
	s := &scheduler{
		checkAt: c.CheckAt, reportAt: c.ReportAt, loc: loc, now: time.Now, sleepUntil: sleepUntil,
		check: func(ctx context.Context, now time.Time) {
			got, err := db.RecordMissing(ctx, now, loc)
			if err != nil {
				log.Error("missing check", logkey.Err, err)
				return
			}
			for _, mn := range got {
				log.Info("missing night recorded", logkey.Customer, mn.Customer, logkey.Server, mn.Server, logkey.Night, mn.Night)
			}
			log.Info("missing check done", logkey.Recorded, len(got))
		},
	}
	if m := c.Mailer; m != nil && len(c.Reports) > 0 {
		s.report = func(ctx context.Context, now time.Time) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				day := now.In(loc).Format(time.DateOnly)
				for _, k := range c.Reports {
					// Claimed before sending: at most once a day, whatever
					// the number of nodes and restarts.
					got, err := db.ClaimReport(ctx, k, day, c.Node)
					if err != nil {
						log.Error("failure report", logkey.Kind, k, logkey.Err, err)
						continue
					}
					if !got {
						by, _, _ := db.ReportClaimant(ctx, k, day)
						log.Info("failure report already sent today; not sent again", logkey.Kind, k, logkey.Night, day, logkey.Node, by)
						continue
					}
					if err := m.Send(ctx, k, now, nil); err != nil {
						log.Error("failure report", logkey.Kind, k, logkey.Err, err)
					}
				}
			}()
		}
	}
	if c.Notifier != nil {
		s.poll, s.pollEvery = c.Notifier.Poll, pollEvery
	}
	if c.Maintain != nil {
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
				c.Maintain(ctx, now)
			}()
		}
		s.maintainEvery = c.MaintainEvery
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.run(ctx)
	}()
	return func(wctx context.Context) {
		done := make(chan struct{})
		go func() {
			wg.Wait()
			if c.Notifier != nil {
				c.Notifier.Wait()
			}
			close(done)
		}()
		select {
		case <-done:
		case <-wctx.Done():
			log.Warn("stopping with emails or webhooks still in flight")
		}
	}
}

func pathEscape(s string) string { return url.PathEscape(s) }

// Clock is a time of day, to the minute.
type Clock struct{ Hour, Min int }

// ParseClock reads HH:MM (24 hours).
func ParseClock(s string) (Clock, error) {
	t, err := time.Parse("15:04", s)
	if err != nil {
		return Clock{}, fmt.Errorf("%q: want HH:MM", s)
	}
	return Clock{t.Hour(), t.Minute()}, nil
}

// Before reports whether c comes earlier in the day than d.
func (c Clock) Before(d Clock) bool { return c.Hour*60+c.Min < d.Hour*60+d.Min }

// nextAt returns the first moment strictly after now at which the wall
// clock in loc shows c. On a day whose clocks skip c (a DST gap), it is the
// moment the clock would have shown c had it not jumped (02:30 on a day
// that goes from 02:00 to 03:00 is 03:30); on a day that shows c twice, it
// is the first time.
func nextAt(now time.Time, c Clock, loc *time.Location) time.Time {
	l := now.In(loc)
	for d := 0; ; d++ {
		t := time.Date(l.Year(), l.Month(), l.Day()+d, c.Hour, c.Min, 0, 0, loc)
		if t.Hour() != c.Hour || t.Minute() != c.Min {
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
	checkAt, reportAt Clock
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

// catchUp is how late a scheduler that starts after today's report time
// still sends the report: a node taking over from one that died just
// before it (the report claim keeps it from going out twice).
const catchUp = time.Hour

// run works until ctx ends. A report time passed while no node was running
// is made up for only within catchUp ("backupreport report send" sends one
// by hand); the missing check catches up on its own, since it looks back
// several nights.
func (s *scheduler) run(ctx context.Context) {
	now := s.now()
	s.check(ctx, now)
	if s.report != nil {
		if due := nextAt(now.Add(-catchUp), s.reportAt, s.loc); !due.After(now) {
			s.report(ctx, now)
		}
	}
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
