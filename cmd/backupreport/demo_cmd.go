package main

import (
	"context"
	"fmt"

	"github.com/backupreport/backupreport/report/demo"
	"github.com/backupreport/backupreport/store"
)

func init() {
	register(&command{name: "demo", summary: "fill a new data folder with demo customers, staff and 90 nights of results", run: runDemo})
}

func runDemo(ctx context.Context, a *app, args []string) int {
	fs := a.newFlags("demo", "[--data DIR] [--if-new]",
		"Fills a new data folder with made-up customers, servers, staff and nights of results, each\n"+
			"made from generated rsync output by the real parser, so every page has something to show.\n"+
			"It refuses a folder with real data, and one that has demo data already (see --if-new).")
	data := dataFlag(fs)
	ifNew := fs.Bool("if-new", false, "do nothing, successfully, when the folder already holds demo data")
	nights := fs.Int("nights", 90, "nights of results")
	tz := fs.String("timezone", "", "time zone the nights are counted in (default: the machine's)")
	pos, code := a.parseFlags(fs, args)
	if code >= 0 {
		return code
	}
	if len(pos) > 0 {
		return a.usageErr(fs, "demo takes no arguments, got %q", pos[0])
	}
	loc, err := loadLocation(*tz)
	if err != nil {
		return a.usageErr(fs, "%v", err)
	}
	if *nights < 1 || *nights > 3660 {
		return a.usageErr(fs, "--nights must be 1 to 3660")
	}
	db, err := openDB(ctx, data)
	if err != nil {
		return a.fail("%v", err)
	}
	defer db.Close()
	kind, err := db.DataKind(ctx)
	if err != nil {
		return a.fail("%v", err)
	}
	switch kind {
	case store.DataReal:
		return a.fail("%s holds real data; demo never touches it. Use a new folder: --data ./demo-data", *data.dir)
	case store.DataDemo:
		if *ifNew {
			fmt.Fprintf(a.stdout, "%s holds demo data already; nothing to do\n", *data.dir)
			return exitOK
		}
		return a.fail("%s holds demo data already; delete the folder to start over, or pass --if-new", *data.dir)
	}
	res, err := demo.Seed(ctx, db, demo.Options{Nights: *nights, Location: loc})
	if err != nil {
		return a.fail("demo: %v", err)
	}
	fmt.Fprintf(a.stdout, "demo data in %s: %d customers, %d servers, %d results over %d nights\n", *data.dir, res.Customers, res.Servers, res.Results, *nights)
	fmt.Fprintln(a.stdout, "\nStaff (passwords shown only now):")
	tw := a.table()
	fmt.Fprintln(tw, "  USERNAME\tROLE\tPASSWORD")
	for _, s := range res.Staff {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", s.Username, s.Role, s.Password)
	}
	tw.Flush()
	fmt.Fprintf(a.stdout, "\nNext: backupreport serve --data %s, then open http://localhost:8080 and log in as alice.\n", *data.dir)
	return exitOK
}
