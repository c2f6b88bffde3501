package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/backupreport/backupreport/parser"
)

// An upload's warnings are stored with it, counted on the result, read
// back by WarningsOf and acknowledged with an audit entry.
func TestWarningsStoredAndAcknowledged(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	db.AddCustomer(ctx, "t", Customer{Slug: "acme"})
	srv, err := db.AddServer(ctx, "t", "acme", "fs01", false)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC)
	store := func(ws []parser.Warning) int64 {
		t.Helper()
		r := &parser.Result{Code: 23, Status: parser.StatusFailed, Complete: true, Warnings: ws}
		saved, err := db.StoreUpload(ctx, Upload{ServerID: srv.ID, Result: r, ReceivedAt: at, Night: "2026-11-26", Source: SourceUpload, Protocol: "exec"})
		if err != nil {
			t.Fatal(err)
		}
		return saved.ResultID
	}
	warned := store([]parser.Warning{{Kind: parser.WarningMassDeletion, Message: "5 of 5 deletions", Numbers: map[string]int64{"deleted_unreadable": 5, "deletions": 5}}})
	quiet := store(nil)

	got, err := db.WarningsOf(ctx, warned, quiet)
	if err != nil {
		t.Fatal(err)
	}
	if len(got[quiet]) != 0 {
		t.Errorf("result without warnings has %v", got[quiet])
	}
	ws := got[warned]
	if len(ws) != 1 || ws[0].Kind != parser.WarningMassDeletion || ws[0].Message != "5 of 5 deletions" || ws[0].Numbers["deleted_unreadable"] != 5 || ws[0].Acknowledged() {
		t.Fatalf("stored warnings = %+v", ws)
	}
	var count int
	db.db.QueryRow(`SELECT warnings FROM results WHERE id = ?`, warned).Scan(&count)
	if count != 1 {
		t.Errorf("results.warnings = %d, want 1", count)
	}

	if err := db.AcknowledgeWarning(ctx, ws[0].ID, "alice", "folder moved on purpose"); err != nil {
		t.Fatal(err)
	}
	got, _ = db.WarningsOf(ctx, warned)
	if w := got[warned][0]; !w.Acknowledged() || w.AckedBy != "alice" || w.AckNote != "folder moved on purpose" {
		t.Errorf("after acknowledge: %+v", w)
	}
	audit, err := db.Audit(ctx, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(audit) == 0 || audit[0].Action != "warning.acknowledge" || audit[0].Actor != "alice" || !strings.Contains(audit[0].After, "folder moved") {
		t.Errorf("audit = %+v", audit)
	}
	if err := db.AcknowledgeWarning(ctx, 9999, "alice", ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown warning: %v, want ErrNotFound", err)
	}
}

// Rewriting a result's warnings keeps the acknowledgement of a kind still
// present and drops kinds that are gone.
func TestWriteWarningsKeepsAcknowledgement(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	db.AddCustomer(ctx, "t", Customer{Slug: "acme"})
	srv, _ := db.AddServer(ctx, "t", "acme", "fs01", false)
	a := parser.Warning{Kind: parser.WarningMassDeletion, Message: "old", Numbers: map[string]int64{"deletions": 1}}
	b := parser.Warning{Kind: "size_drop", Message: "drop"}
	saved, err := db.StoreUpload(ctx, Upload{ServerID: srv.ID, Result: &parser.Result{Code: 0, Status: parser.StatusOK, Complete: true, Warnings: []parser.Warning{a, b}},
		ReceivedAt: db.Now(), Night: "2026-11-26", Source: SourceUpload, Protocol: "exec"})
	if err != nil {
		t.Fatal(err)
	}
	id := saved.ResultID
	got, _ := db.WarningsOf(ctx, id)
	for _, w := range got[id] {
		if err := db.AcknowledgeWarning(ctx, w.ID, "bob", "seen"); err != nil {
			t.Fatal(err)
		}
	}
	a.Message = "new"
	if err := db.withTx(ctx, func(tx *sql.Tx) error { return writeWarnings(ctx, tx, id, []parser.Warning{a}, false) }); err != nil {
		t.Fatal(err)
	}
	got, _ = db.WarningsOf(ctx, id)
	if ws := got[id]; len(ws) != 1 || ws[0].Kind != parser.WarningMassDeletion || ws[0].Message != "new" || ws[0].AckedBy != "bob" {
		t.Fatalf("after rewrite: %+v", ws)
	}
	var count int
	db.db.QueryRow(`SELECT warnings FROM results WHERE id = ?`, id).Scan(&count)
	if count != 1 {
		t.Errorf("results.warnings = %d, want 1", count)
	}
}

// Staff's warning texts replace the built-in ones, are audited, and a kind
// that does not exist is refused.
func TestWarningTexts(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	w := parser.WarningInfo{Kind: parser.WarningChangeSpike, Name: "ransomware?", Meaning: "Much changed.", Action: "Call the customer."}
	if err := db.SetWarningInfo(ctx, "web:alice", w); err != nil {
		t.Fatal(err)
	}
	tab, err := db.WarningTable(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := tab.Lookup(parser.WarningChangeSpike); got != w {
		t.Errorf("edited text: %+v, want %+v", got, w)
	}
	var zero parser.WarningTable
	if got := tab.Lookup(parser.WarningSizeDrop); got != zero.Lookup(parser.WarningSizeDrop) {
		t.Errorf("an unedited kind: %+v, want the built-in text", got)
	}
	log, err := db.Audit(ctx, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(log) == 0 || log[0].Action != "warning_text.set" || log[0].Actor != "web:alice" {
		t.Errorf("audit: %+v, want warning_text.set by web:alice first", log)
	}
	if err := db.SetWarningInfo(ctx, "web:alice", parser.WarningInfo{Kind: "nope", Name: "n", Meaning: "m", Action: "a"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown kind: %v, want ErrNotFound", err)
	}
	if err := db.SetWarningInfo(ctx, "web:alice", parser.WarningInfo{Kind: parser.WarningSizeDrop, Name: "n"}); err == nil {
		t.Error("empty meaning accepted")
	}
}

// Warned lists the servers whose latest result has warnings nobody has
// acknowledged, an ok one included; an acknowledgement takes it off.
func TestWarnedListsUnacknowledgedOnly(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	db.AddCustomer(ctx, "t", Customer{Slug: "acme"})
	srv, err := db.AddServer(ctx, "t", "acme", "docs", false)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	r := &parser.Result{Code: 0, Status: parser.StatusOK, Complete: true,
		Warnings: []parser.Warning{{Kind: parser.WarningChangeSpike, Message: "much sent"}}}
	if _, err := db.StoreUpload(ctx, Upload{ServerID: srv.ID, Result: r, ReceivedAt: now.Add(-6 * time.Hour), Night: "2026-11-26", Source: SourceUpload}); err != nil {
		t.Fatal(err)
	}
	got, err := db.Warned(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Server != "docs" || got[0].Status != parser.StatusOK || len(got[0].Warnings) != 1 {
		t.Fatalf("Warned = %+v, want docs, ok, with its warning", got)
	}
	if err := db.AcknowledgeWarning(ctx, got[0].Warnings[0].ID, "web:tom", "planned migration"); err != nil {
		t.Fatal(err)
	}
	if got, err = db.Warned(ctx, now); err != nil || len(got) != 0 {
		t.Errorf("after acknowledging: %+v, %v; want none", got, err)
	}
}

// The webhook sees an ok night with warnings as a state of its own,
// "warning", and acknowledging them as the change back to ok.
func TestWarningIsAWebhookState(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	db.AddCustomer(ctx, "t", Customer{Slug: "acme"})
	srv, err := db.AddServer(ctx, "t", "acme", "docs", false)
	if err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)
	upload := func(at time.Time, ws []parser.Warning) {
		t.Helper()
		r := &parser.Result{Status: parser.StatusOK, Complete: true, Warnings: ws}
		if _, err := db.StoreUpload(ctx, Upload{ServerID: srv.ID, Result: r, ReceivedAt: at, Night: NightOf(at.Add(-12*time.Hour), time.UTC), Source: SourceUpload}); err != nil {
			t.Fatal(err)
		}
	}
	upload(day, nil)
	if got, err := db.TakeStateChanges(ctx, day.Add(time.Hour)); err != nil || len(got) != 0 {
		t.Fatalf("first run: %+v, %v", got, err)
	}
	upload(day.Add(24*time.Hour), []parser.Warning{{Kind: parser.WarningSizeDrop, Message: "smaller"}})
	got, err := db.TakeStateChanges(ctx, day.Add(25*time.Hour))
	if err != nil || len(got) != 1 || got[0].From != "ok" || got[0].To != StateWarning || len(got[0].Warnings) != 1 || got[0].Warnings[0] != parser.WarningSizeDrop {
		t.Fatalf("after the warned night: %+v, %v; want ok -> warning (size_drop)", got, err)
	}
	ws, _ := db.WarningsOf(ctx, *got[0].ResultID)
	if err := db.AcknowledgeWarning(ctx, ws[*got[0].ResultID][0].ID, "web:tom", "archived"); err != nil {
		t.Fatal(err)
	}
	got, err = db.TakeStateChanges(ctx, day.Add(26*time.Hour))
	if err != nil || len(got) != 1 || got[0].From != StateWarning || got[0].To != "ok" || len(got[0].Warnings) != 0 {
		t.Fatalf("after acknowledging: %+v, %v; want warning -> ok", got, err)
	}
}

// A report is claimed once a day: the second node's claim fails and names
// the first.
func TestClaimReportOncePerDay(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	if got, err := db.ClaimReport(ctx, ReportDaily, "2026-11-27", "a:1"); err != nil || !got {
		t.Fatalf("first claim: %v, %v", got, err)
	}
	if got, err := db.ClaimReport(ctx, ReportDaily, "2026-11-27", "b:2"); err != nil || got {
		t.Fatalf("second claim: %v, %v; want refused", got, err)
	}
	if by, ok, err := db.ReportClaimant(ctx, ReportDaily, "2026-11-27"); err != nil || !ok || by != "a:1" {
		t.Errorf("claimant: %q %v %v", by, ok, err)
	}
	if got, _ := db.ClaimReport(ctx, ReportThreeDay, "2026-11-27", "b:2"); !got {
		t.Error("another kind the same day was refused")
	}
	if _, ok, _ := db.ReportClaimant(ctx, ReportDaily, "2026-11-28"); ok {
		t.Error("an unclaimed day has a claimant")
	}
}
