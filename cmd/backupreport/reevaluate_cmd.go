package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/backupreport/backupreport/parser"
	"github.com/backupreport/backupreport/store"
	"github.com/backupreport/backupreport/store/reeval"
)

func init() {
	register(&command{name: "reevaluate", summary: "judge stored results again with today's exceptions", run: runReevaluate})
}

func runReevaluate(ctx context.Context, a *app, args []string) int {
	var since *string
	var all *bool
	var batch *int
	var thresholds *parser.Thresholds
	var flags *flag.FlagSet
	return a.withDB(ctx, "reevaluate", "[--since DATE | --all]",
		"Judges stored results again from their stored raw logs with the servers' current exceptions,\n"+
			"and records each changed verdict with the old one. Without flags it redoes the last 7 days,\n"+
			"as a change of exceptions does by itself. Warnings are judged again too, against the normal\n"+
			"stored with each upload, with the --warn-* thresholds: give serve's, or set BACKUPREPORT_WARN_*\n"+
			"for both. Uploads go on meanwhile: the work is done in small batches, each written in its own\n"+
			"short transaction. Missing nights (no log) are skipped.",
		args, 0, func(fs *flag.FlagSet) {
			since = fs.String("since", "", "redo results received on or after DATE (YYYY-MM-DD, local time)")
			all = fs.Bool("all", false, "redo every stored result")
			batch = fs.Int("batch", 256, "results per batch (one short write transaction each)")
			thresholds = warnFlags(fs)
			flags = fs
		},
		func(db *store.DB, _ []string) int {
			if err := thresholds.Check(); err != nil {
				return a.usageErr(flags, "--warn-*: %v", err)
			}
			db.Thresholds = thresholds
			opts := reeval.Options{Actor: cliActor(), BatchSize: *batch}
			switch {
			case *all && *since != "":
				return a.fail("give --since or --all, not both")
			case *all:
				opts.Reason = "reevaluate --all by " + strings.TrimPrefix(opts.Actor, "cli:")
			case *since != "":
				d, err := time.ParseInLocation(time.DateOnly, *since, time.Local)
				if err != nil {
					return a.fail("--since %q: want a date like 2026-03-01", *since)
				}
				opts.Since = d
				opts.Reason = "reevaluate --since " + *since + " by " + strings.TrimPrefix(opts.Actor, "cli:")
			default:
				opts.Since = db.Now().Add(-reeval.Window)
				opts.Reason = "reevaluate (last 7 days) by " + strings.TrimPrefix(opts.Actor, "cli:")
			}
			opts.Progress = a.reevalProgress()
			st, err := reeval.Run(ctx, db, opts)
			if err != nil {
				return a.fail("%v", err)
			}
			fmt.Fprintf(a.stdout, "re-evaluated %d results in %v: %d verdicts changed, %d results updated\n",
				st.Results, st.Duration.Round(time.Millisecond), st.Changed, st.Updated)
			return exitOK
		})
}

// reevalProgress shows a re-evaluation's progress: a bar redrawn in place
// on a terminal, otherwise a plain line at every tenth of the work.
func (a *app) reevalProgress() func(done, total int) {
	lastTenth := -1
	return func(done, total int) {
		if total == 0 {
			return
		}
		if a.isTerminal {
			const width = 30
			n := done * width / total
			fmt.Fprintf(a.stdout, "\r[%s%s] %3d%% %d/%d results", strings.Repeat("#", n), strings.Repeat(" ", width-n), done*100/total, done, total)
			if done >= total {
				fmt.Fprintln(a.stdout)
			}
			return
		}
		if tenth := done * 10 / total; tenth != lastTenth {
			lastTenth = tenth
			fmt.Fprintf(a.stdout, "reevaluate: %d/%d results (%d%%)\n", done, total, done*100/total)
		}
	}
}

// reevaluateScope re-evaluates the last 7 days of the results an exception
// applies to, after it changed.
func (a *app) reevaluateScope(ctx context.Context, db *store.DB, e store.Exception, reason string) int {
	st, err := reeval.AfterExceptionChange(ctx, db, e, db.Now(), cliActor(), reason, a.reevalProgress())
	if err != nil {
		return a.fail("the exception changed, but re-evaluating the last 7 days failed: %v (run 'backupreport reevaluate')", err)
	}
	fmt.Fprintf(a.stdout, "re-evaluated %d results of the last 7 days: %d verdicts changed\n", st.Results, st.Changed)
	return exitOK
}
