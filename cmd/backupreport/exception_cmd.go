package main

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"strings"

	"github.com/backupreport/backupreport/store"
)

func init() {
	register(&command{name: "exception", summary: "add, list and remove exceptions (files backed up by other means)", run: runGroup("exception", map[string]verb{
		"add":    {"CUSTOMER[/SERVER]|global PATTERN [--note TEXT]", exceptionAdd},
		"list":   {"[--json]", exceptionList},
		"remove": {"ID", exceptionRemove},
		"edit":   {"ID PATTERN [--note TEXT]", exceptionEdit},
	})})
}

func exceptionAdd(ctx context.Context, a *app, args []string) int {
	var note *string
	return a.withDB(ctx, "exception add", "CUSTOMER[/SERVER]|global PATTERN",
		"Adds an exception: errors on files matching PATTERN no longer fail a night with code 23.\n"+
			"PATTERN is a case-insensitive glob over the whole path as rsync printed it: * matches any\n"+
			"run of characters (/ included), ? one character. Examples: '*.pst', '*/QuickBooks/*'.",
		args, 2, func(fs *flag.FlagSet) {
			note = fs.String("note", "", "why: e.g. which other backup covers these files")
		},
		func(db *store.DB, pos []string) int {
			scope := pos[0]
			if scope != "global" {
				if _, _, err := splitServer(scope, false); err != nil {
					return a.fail("%v", err)
				}
			}
			e, err := db.AddException(ctx, cliActor(), scope, pos[1], *note)
			if err != nil {
				return a.fail("%v", withFixHint(ctx, db, scope, err))
			}
			fmt.Fprintf(a.stdout, "added exception %d: %s for %s\n", e.ID, e.Pattern, e.Scope())
			return a.reevaluateScope(ctx, db, e, fmt.Sprintf("exception %d added by %s", e.ID, strings.TrimPrefix(cliActor(), "cli:")))
		})
}

func exceptionList(ctx context.Context, a *app, args []string) int {
	var asJSON *bool
	return a.withDB(ctx, "exception list", "[--json]", "Lists exceptions.", args, 0,
		func(fs *flag.FlagSet) { asJSON = fs.Bool("json", false, "print a JSON array") },
		func(db *store.DB, _ []string) int {
			es, err := db.Exceptions(ctx)
			if err != nil {
				return a.fail("%v", err)
			}
			if *asJSON {
				return a.printJSON(es)
			}
			tw := a.table()
			fmt.Fprintln(tw, "ID\tSCOPE\tPATTERN\tLAST MATCHED\tNOTE")
			for _, e := range es {
				matched := "never"
				if e.LastMatchedAt != nil {
					matched = e.LastMatchedAt.Local().Format(cliTime)
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", e.ID, e.Scope(), e.Pattern, matched, e.Note)
			}
			tw.Flush()
			return exitOK
		})
}

func exceptionRemove(ctx context.Context, a *app, args []string) int {
	return a.withDB(ctx, "exception remove", "ID", "Removes an exception.", args, 1, nil,
		func(db *store.DB, pos []string) int {
			id, err := strconv.ParseInt(pos[0], 10, 64)
			if err != nil {
				return a.fail("%q is not an exception ID (see 'backupreport exception list')", pos[0])
			}
			e, err := db.ExceptionByID(ctx, id)
			if err != nil {
				return a.fail("%v", err)
			}
			if err := db.RemoveException(ctx, cliActor(), id); err != nil {
				return a.fail("%v", err)
			}
			fmt.Fprintf(a.stdout, "removed exception %d\n", id)
			return a.reevaluateScope(ctx, db, e, fmt.Sprintf("exception %d removed by %s", id, strings.TrimPrefix(cliActor(), "cli:")))
		})
}

func exceptionEdit(ctx context.Context, a *app, args []string) int {
	var note *string
	return a.withDB(ctx, "exception edit", "ID PATTERN", "Changes an exception's pattern (and note, with --note), then re-evaluates the last 7 days.",
		args, 2, func(fs *flag.FlagSet) { note = fs.String("note", "", "a new note (default: keep the old one)") },
		func(db *store.DB, pos []string) int {
			id, err := strconv.ParseInt(pos[0], 10, 64)
			if err != nil {
				return a.fail("%q is not an exception ID (see 'backupreport exception list')", pos[0])
			}
			old, err := db.ExceptionByID(ctx, id)
			if err != nil {
				return a.fail("%v", err)
			}
			n := old.Note
			if *note != "" {
				n = *note
			}
			e, err := db.UpdateException(ctx, cliActor(), id, pos[1], n)
			if err != nil {
				return a.fail("%v", err)
			}
			fmt.Fprintf(a.stdout, "exception %d: %s -> %s\n", id, old.Pattern, e.Pattern)
			return a.reevaluateScope(ctx, db, e, fmt.Sprintf("exception %d edited by %s", id, strings.TrimPrefix(cliActor(), "cli:")))
		})
}
