package main

import (
	"strings"
	"testing"
)

func TestServeRefusesReportsBeforeTheCheck(t *testing.T) {
	out, code := cliRun(t, t.TempDir(), "serve", "--ssh-addr", "127.0.0.1:0", "--http-addr", "", "--check-at", "07:00", "--report-at", "06:30")
	if code != exitFailure || !strings.Contains(out, "--report-at 06:30 must come after --check-at 07:00") {
		t.Errorf("exit %d, output %q", code, out)
	}
}

func TestRedactURLHidesTokens(t *testing.T) {
	for in, want := range map[string]string{
		"https://hooks.slack.com/services/T000/B000/XXXXSECRET": "https://hooks.slack.com/…",
		"https://psa.example.com/":                              "https://psa.example.com/",
		"not a url":                                             "(webhook URL)",
	} {
		if got := redactURL(in); got != want {
			t.Errorf("redactURL(%q) = %q, want %q", in, got, want)
		}
	}
}
