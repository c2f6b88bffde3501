package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/backupreport/backupreport/store"
)

func init() {
	register(&command{name: "check", summary: "record missing reports (the check serve runs daily)", run: runCheck})
}

func runCheck(ctx context.Context, a *app, args []string) int {
	var at, tz *string
	var lookback *int
	var asJSON *bool
	return a.withDB(ctx, "check", "[--at RFC3339] [--timezone ZONE] [--lookback NIGHTS] [--json]",
		"Runs the missing-report check that serve runs at start-up and at --check-at, now or as of\n"+
			"--at, and prints the nights it recorded. For each active server it looks at the nights from\n"+
			"--lookback nights before the current one (or its creation, or the night after its latest\n"+
			"upload) up to the current one; an expected night with no upload whose deadline has passed\n"+
			"gets a missing result (code -2, \"no report received\"). The deadline is 24 hours after the\n"+
			"previous upload by the wall clock, or noon after the night for a server that never\n"+
			"uploaded. Retired servers and nights on days a server is not expected are skipped.\n"+
			"Running it again records nothing twice.",
		args, 0, func(fs *flag.FlagSet) {
			at = fs.String("at", "", "check as of this RFC 3339 `TIME` (default: now), to catch up after an outage")
			tz = fs.String("timezone", "", "time zone of nights, as serve's --timezone (default: the machine's)")
			lookback = fs.Int("lookback", store.MissingLookback, "how many nights before the current one to look at")
			asJSON = fs.Bool("json", false, "print the recorded nights as a JSON array")
		},
		func(db *store.DB, _ []string) int {
			loc, err := loadLocation(*tz)
			if err != nil {
				return a.fail("%v", err)
			}
			now := time.Now()
			if *at != "" {
				if now, err = time.Parse(time.RFC3339, *at); err != nil {
					return a.fail("--at %q: want an RFC 3339 time such as 2026-11-26T07:00:00+01:00", *at)
				}
			}
			if *lookback < 0 {
				return a.fail("--lookback must not be negative")
			}
			got, err := db.RecordMissingSince(ctx, now, loc, *lookback)
			if err != nil {
				return a.fail("%v", err)
			}
			if *asJSON {
				if got == nil {
					got = []store.MissingNight{}
				}
				return a.printJSON(got)
			}
			for _, m := range got {
				fmt.Fprintf(a.stdout, "missing  %s/%s  night %s  (due %s)\n", m.Customer, m.Server, m.Night, m.Deadline.In(loc).Format("2006-01-02 15:04 MST"))
			}
			fmt.Fprintf(a.stdout, "%d missing night(s) recorded as of %s\n", len(got), now.In(loc).Format(time.RFC3339))
			return exitOK
		})
}
