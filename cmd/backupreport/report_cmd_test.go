package main

import (
	"context"
	"strings"
	"testing"

	"github.com/backupreport/backupreport/store"
)

func TestReportSendDryRunPrintsBothParts(t *testing.T) {
	dir := seedData(t)
	code, out, errOut := runApp(t, "", "report", "send", "daily", "--data", dir, "--dry-run", "--timezone", "UTC",
		"--at", "2026-11-26T07:15:00Z", "--report-to", "team@example.com", "--base-url", "https://b.example")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"To: team@example.com", "Subject: Daily failure report 2026-11-26: 1 failed, 1 missing",
		"--- text/plain ---", "--- text/html ---", "&lt;img src=x onerror=alert(1)&gt;", "https://b.example/results/", "== acme =="} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run lacks %q", want)
		}
	}
	if i := strings.Index(out, "--- text/html ---"); strings.Contains(out[i:], "<img src=x onerror=alert(1)>") {
		t.Error("HTML part holds the hostile name unescaped")
	}
}

func TestReportSendDeliversAndRecordsFailures(t *testing.T) {
	dir := seedData(t)
	srv := startTestSMTP(t)
	base := []string{"report", "send", "three-day", "--data", dir, "--timezone", "UTC", "--at", "2026-11-26T07:15:00Z",
		"--smtp-addr", srv.addr, "--smtp-tls", "none", "--smtp-from", "br@example.com", "--retry-wait", "1ms"}
	code, out, errOut := runApp(t, "", append(base, "--to", "ops@example.com,boss@example.com")...)
	if code != exitOK || !strings.Contains(out, "Three-day failure report sent") {
		t.Fatalf("send: exit %d, %q, %q", code, out, errOut)
	}
	msgs := srv.messages()
	if len(msgs) != 1 || strings.Join(msgs[0].to, ",") != "ops@example.com,boss@example.com" ||
		!strings.Contains(msgs[0].data, "Three-day failure report") || !strings.Contains(msgs[0].data, "text/html") {
		t.Fatalf("received %+v", msgs)
	}
	srv.reject = "nobody@example.com"
	code, _, errOut = runApp(t, "", append(base, "--to", "nobody@example.com")...)
	if code != exitFailure || !strings.Contains(errOut, "550") || !strings.Contains(errOut, "gave up after 3 attempts") {
		t.Errorf("refused: exit %d, stderr %q; want a clear 550 after 3 attempts", code, errOut)
	}
	if code, _, errOut := runApp(t, "", "report", "send", "daily", "--data", dir); code != exitFailure || !strings.Contains(errOut, "--smtp-addr") {
		t.Errorf("no smtp: exit %d, %q", code, errOut)
	}
	db, err := store.OpenDir(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	log, _ := db.EmailLog(context.Background(), 10)
	if len(log) != 2 || log[0].Status != store.DeliveryFailed || log[0].Attempts != 3 || !strings.Contains(log[0].LastError, "550") ||
		log[1].Status != store.DeliverySent || log[1].Attempts != 1 {
		t.Errorf("email log = %+v", log)
	}
}
