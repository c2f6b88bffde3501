package main

import (
	"context"
	"flag"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/backupreport/backupreport/parser"
	"github.com/backupreport/backupreport/store"
)

func init() {
	register(&command{name: "status", summary: "the nightly report: every server's latest result", run: runStatus})
	register(&command{name: "history", summary: "every result of one server", run: runHistory})
}

func runStatus(ctx context.Context, a *app, args []string) int {
	var asJSON *bool
	return a.withDB(ctx, "status", "[--json]",
		"Prints every active server's latest result within the last 24 hours; a server with none is\n"+
			"missing (code -2). Failures and missing servers come first.",
		args, 0, func(fs *flag.FlagSet) { asJSON = fs.Bool("json", false, "print a JSON array") },
		func(db *store.DB, _ []string) int {
			rows, err := db.Status(ctx, time.Now(), 24*time.Hour)
			if err != nil {
				return a.fail("%v", err)
			}
			sort.SliceStable(rows, func(i, j int) bool { return rows[i].Status.Order() < rows[j].Status.Order() })
			if *asJSON {
				return a.printJSON(rows)
			}
			codes, err := db.CodeTable(ctx)
			if err != nil {
				return a.fail("%v", err)
			}
			tw := a.table()
			fmt.Fprintln(tw, "STATUS\tCUSTOMER\tSERVER\tCODE\tMEANING\tRECEIVED\tERRORS\tEXCEPTED\tWARNINGS")
			counts := map[parser.Status]int{}
			warned := 0
			for _, r := range rows {
				counts[r.Status]++
				received := "-"
				if r.ReceivedAt != nil {
					received = r.ReceivedAt.Local().Format(cliTime)
				}
				ws := warningKinds(r.Warnings)
				if ws != "-" {
					warned++
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%d\t%d\t%s\n", r.Status, r.Customer, r.Server, r.Code,
					codes.Lookup(r.Code).Name, received, r.FileErrors, r.ExceptedErrors, ws)
			}
			tw.Flush()
			fmt.Fprintf(a.stdout, "\n%d ok, %d failed, %d missing", counts[parser.StatusOK], counts[parser.StatusFailed], counts[parser.StatusMissing])
			if warned > 0 {
				fmt.Fprintf(a.stdout, "; %d with warnings nobody acknowledged", warned)
			}
			fmt.Fprintln(a.stdout)
			return exitOK
		})
}

func runHistory(ctx context.Context, a *app, args []string) int {
	var asJSON *bool
	var limit *int
	return a.withDB(ctx, "history", "CUSTOMER/SERVER", "Prints a server's results, newest first.", args, 1,
		func(fs *flag.FlagSet) {
			asJSON = fs.Bool("json", false, "print a JSON array")
			limit = fs.Int("limit", 100, "at most this many results")
		},
		func(db *store.DB, pos []string) int {
			cust, name, err := splitServer(pos[0], true)
			if err != nil {
				return a.fail("%v", err)
			}
			srv, err := db.ServerByName(ctx, cust, name)
			if err != nil {
				return a.fail("%v", withFixHint(ctx, db, pos[0], err))
			}
			rows, err := db.History(ctx, srv.ID, *limit, 0)
			if err != nil {
				return a.fail("%v", err)
			}
			if *asJSON {
				return a.printJSON(rows)
			}
			codes, err := db.CodeTable(ctx)
			if err != nil {
				return a.fail("%v", err)
			}
			tw := a.table()
			fmt.Fprintln(tw, "ID\tRECEIVED\tNIGHT\tSTATUS\tCODE\tMEANING\tERRORS\tEXCEPTED\tBYTES\tWARNINGS\tNOTE")
			for _, r := range rows {
				note := r.Reason
				if r.Interrupted && note == "" {
					note = "interrupted"
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%s\t%d\t%d\t%d\t%s\t%s\n", r.ID, r.ReceivedAt.Local().Format(cliTime), r.Night,
					r.Status, r.Code, codes.Lookup(r.Code).Name, r.FileErrors, r.ExceptedErrors, r.UploadBytes, warningKinds(r.Warnings), note)
			}
			tw.Flush()
			return exitOK
		})
}

// warningKinds lists the kinds of the warnings nobody has acknowledged,
// comma-separated, or "-".
func warningKinds(ws []store.Warning) string {
	var kinds []string
	for _, w := range store.Unacknowledged(ws) {
		kinds = append(kinds, string(w.Kind))
	}
	if len(kinds) == 0 {
		return "-"
	}
	return strings.Join(kinds, ",")
}
