package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/backupreport/backupreport/server"
	"github.com/backupreport/backupreport/store"
)

func init() {
	register(&command{name: "ban", summary: "list and lift bans of SSH source addresses after failed logins", run: runGroup("ban", map[string]verb{
		"list": {"[--json]", banList},
		"lift": {"ADDRESS", banLift},
	})})
}

func banList(ctx context.Context, a *app, args []string) int {
	var asJSON *bool
	return a.withDB(ctx, "ban list", "[--json]",
		"Lists the SSH source addresses banned now (IPv4 addresses, IPv6 /64s), those ending last first.", args, 0,
		func(fs *flag.FlagSet) { asJSON = fs.Bool("json", false, "print a JSON array") },
		func(db *store.DB, _ []string) int {
			bs, err := db.ActiveBans(ctx)
			if err != nil {
				return a.fail("%v", err)
			}
			if *asJSON {
				if bs == nil {
					bs = []store.Ban{}
				}
				return a.printJSON(bs)
			}
			tw := a.table()
			fmt.Fprintln(tw, "ADDRESS\tSINCE\tUNTIL\tLEVEL\tSCORE\tREASON")
			for _, b := range bs {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%s\n", b.Address, b.Since.Local().Format(cliTime),
					b.Until.Local().Format(cliTime), b.Level, b.Score, b.Reason)
			}
			tw.Flush()
			return exitOK
		})
}

func banLift(ctx context.Context, a *app, args []string) int {
	return a.withDB(ctx, "ban lift", "ADDRESS",
		"Lifts the ban of an SSH source address (an IPv4 address, or any IPv6 address of a banned /64) and\n"+
			"forgets its earlier offences. A running serve lets the address in within its --ban-reload (30s);\n"+
			"the web interface's Bans page lifts a ban at once.", args, 1, nil,
		func(db *store.DB, pos []string) int {
			addr, err := server.BanAddress(pos[0])
			if err != nil {
				return a.fail("%v", err)
			}
			if err := db.LiftBan(ctx, cliActor(), addr); errors.Is(err, store.ErrNotFound) {
				return a.fail("%s is not banned", addr)
			} else if err != nil {
				return a.fail("%v", err)
			}
			fmt.Fprintf(a.stdout, "lifted the ban of %s\n", addr)
			return exitOK
		})
}
