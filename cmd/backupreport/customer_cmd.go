package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/backupreport/backupreport/store"
)

func init() {
	register(&command{name: "customer", summary: "add and list customers", run: runGroup("customer", map[string]verb{
		"add":  {"SLUG [--name NAME]", customerAdd},
		"list": {"[--json]", customerList},
	})})
	register(&command{name: "server", summary: "add and list customers' servers", run: runGroup("server", map[string]verb{
		"add":  {"CUSTOMER/SERVER", serverAdd},
		"list": {"[--json]", serverList},
	})})
}

func customerAdd(ctx context.Context, a *app, args []string) int {
	var name *string
	return a.withDB(ctx, "customer add", "SLUG", "Adds a customer. SLUG is the name in its upload paths (/reports/SLUG/...), unique ignoring case.",
		args, 1, func(fs *flag.FlagSet) { name = fs.String("name", "", "the customer's full name (default: SLUG)") },
		func(db *store.DB, pos []string) int {
			c, err := db.AddCustomer(ctx, cliActor(), store.Customer{Slug: pos[0], Name: *name})
			if err != nil {
				return a.fail("%v", err)
			}
			fmt.Fprintf(a.stdout, "added customer %s (%s)\n", c.Slug, c.Name)
			return exitOK
		})
}

func customerList(ctx context.Context, a *app, args []string) int {
	var asJSON *bool
	return a.withDB(ctx, "customer list", "[--json]", "Lists customers.", args, 0,
		func(fs *flag.FlagSet) { asJSON = fs.Bool("json", false, "print a JSON array") },
		func(db *store.DB, _ []string) int {
			cs, err := db.Customers(ctx)
			if err != nil {
				return a.fail("%v", err)
			}
			if *asJSON {
				return a.printJSON(cs)
			}
			tw := a.table()
			fmt.Fprintln(tw, "SLUG\tNAME\tACTIVE\tCSR\tTSR")
			for _, c := range cs {
				fmt.Fprintf(tw, "%s\t%s\t%v\t%s\t%s\n", c.Slug, c.Name, c.Active, c.CSR, c.TSR)
			}
			tw.Flush()
			return exitOK
		})
}

func serverAdd(ctx context.Context, a *app, args []string) int {
	return a.withDB(ctx, "server add", "CUSTOMER/SERVER", "Registers a server of a customer. Its uploads go to /reports/CUSTOMER/SERVER.out.",
		args, 1, nil, func(db *store.DB, pos []string) int {
			cust, name, err := splitServer(pos[0], true)
			if err != nil {
				return a.fail("%v", err)
			}
			s, err := db.AddServer(ctx, cliActor(), cust, name, false)
			if err != nil {
				return a.fail("%v", withFixHint(ctx, db, cust, err))
			}
			fmt.Fprintf(a.stdout, "added server %s/%s\n", s.Customer, s.Name)
			return exitOK
		})
}

func serverList(ctx context.Context, a *app, args []string) int {
	var asJSON *bool
	return a.withDB(ctx, "server list", "[--json]", "Lists servers.", args, 0,
		func(fs *flag.FlagSet) { asJSON = fs.Bool("json", false, "print a JSON array") },
		func(db *store.DB, _ []string) int {
			ss, err := db.Servers(ctx)
			if err != nil {
				return a.fail("%v", err)
			}
			if *asJSON {
				return a.printJSON(ss)
			}
			tw := a.table()
			fmt.Fprintln(tw, "CUSTOMER\tSERVER\tSTATE")
			for _, s := range ss {
				state := "active"
				switch {
				case s.Retired:
					state = "retired"
				case s.Pending:
					state = "new (registered by an upload)"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\n", s.Customer, s.Name, state)
			}
			tw.Flush()
			return exitOK
		})
}
