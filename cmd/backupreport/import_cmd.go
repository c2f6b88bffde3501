package main

import (
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/backupreport/backupreport/store"
)

func init() {
	register(&command{name: "import", summary: "import customers or servers from the old system (CSV)", run: runGroup("import", map[string]verb{
		"customers": {"FILE.csv [--dry-run]", importCustomers},
		"servers":   {"FILE.csv [--dry-run]", importServers},
	})})
}

// Column layouts of the import files; the header row must name them (in
// any order; columns other than the key ones may be left out).
var (
	customerColumns = []string{"slug", "name", "csr", "tsr", "active"}
	serverColumns   = []string{"customer", "server", "expect_days", "retired"}
)

// readCSV reads a CSV file with a header row into maps keyed by the
// lower-case column names, with the file's line numbers. required columns
// must be present; unknown ones are an error, so that a typo is not
// silently ignored.
func readCSV(r io.Reader, known, required []string) ([]map[string]string, []int, error) {
	cr := csv.NewReader(r)
	cr.TrimLeadingSpace = true
	cr.Comment = '#'
	header, err := cr.Read()
	if err != nil {
		return nil, nil, fmt.Errorf("read header: %w", err)
	}
	idx := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		ok := false
		for _, k := range known {
			ok = ok || h == k
		}
		if !ok {
			return nil, nil, fmt.Errorf("header: unknown column %q (known: %s)", h, strings.Join(known, ","))
		}
		idx[h] = i
	}
	for _, k := range required {
		if _, ok := idx[k]; !ok {
			return nil, nil, fmt.Errorf("header: column %q is missing (want %s)", k, strings.Join(known, ","))
		}
	}
	var rows []map[string]string
	var lines []int
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return rows, lines, nil
		}
		if err != nil {
			return nil, nil, err
		}
		line, _ := cr.FieldPos(0)
		m := map[string]string{}
		for k, i := range idx {
			if i < len(rec) {
				m[k] = strings.TrimSpace(rec[i])
			}
		}
		rows = append(rows, m)
		lines = append(lines, line)
	}
}

// parseYesNo reads a CSV flag; empty gives def.
func parseYesNo(s string, def bool) (bool, error) {
	switch strings.ToLower(s) {
	case "":
		return def, nil
	case "1", "y", "yes", "true", "t":
		return true, nil
	case "0", "n", "no", "false", "f":
		return false, nil
	}
	return false, fmt.Errorf("%q is not yes or no", s)
}

func importCustomers(ctx context.Context, a *app, args []string) int {
	return a.runImport(ctx, "customers", args, "Imports customers from a CSV file with a header row: slug,name,csr,tsr,active.\n"+
		"slug is required; csr and tsr are usernames of existing staff (empty: none); active is yes/no\n"+
		"(empty: yes). Existing customers (same slug, ignoring case) are updated, new ones added;\n"+
		"customers not in the file are left alone. The import is one transaction: any bad row stops it\n"+
		"with nothing changed. --dry-run prints what would change.",
		func(db *store.DB, f io.Reader, dry bool) ([]store.ImportChange, error) {
			recs, lines, err := readCSV(f, customerColumns, []string{"slug"})
			if err != nil {
				return nil, err
			}
			rows := make([]store.CustomerRow, 0, len(recs))
			for i, m := range recs {
				active, err := parseYesNo(m["active"], true)
				if err != nil {
					return nil, fmt.Errorf("line %d: active: %w", lines[i], err)
				}
				rows = append(rows, store.CustomerRow{Line: lines[i], Slug: m["slug"], Name: m["name"], CSR: m["csr"], TSR: m["tsr"], Active: active})
			}
			return db.ImportCustomers(ctx, cliActor(), rows, dry)
		})
}

func importServers(ctx context.Context, a *app, args []string) int {
	return a.runImport(ctx, "servers", args, "Imports servers from a CSV file with a header row: customer,server,expect_days,retired.\n"+
		"customer (its slug) and server are required; the customer must exist. expect_days is empty or\n"+
		"'daily' for every night, or weekdays and ranges such as 'mon-fri' or 'mon wed fri'; retired is\n"+
		"yes/no (empty: no). Existing servers are updated, new ones added (approved, not 'new'). One\n"+
		"transaction; --dry-run prints what would change.",
		func(db *store.DB, f io.Reader, dry bool) ([]store.ImportChange, error) {
			recs, lines, err := readCSV(f, serverColumns, []string{"customer", "server"})
			if err != nil {
				return nil, err
			}
			rows := make([]store.ServerRow, 0, len(recs))
			for i, m := range recs {
				days, err := store.ParseWeekdays(m["expect_days"])
				if err != nil {
					return nil, fmt.Errorf("line %d: expect_days: %w", lines[i], err)
				}
				retired, err := parseYesNo(m["retired"], false)
				if err != nil {
					return nil, fmt.Errorf("line %d: retired: %w", lines[i], err)
				}
				rows = append(rows, store.ServerRow{Line: lines[i], Customer: m["customer"], Server: m["server"], ExpectDays: days, Retired: retired})
			}
			return db.ImportServers(ctx, cliActor(), rows, dry)
		})
}

func (a *app) runImport(ctx context.Context, what string, args []string, desc string, run func(db *store.DB, f io.Reader, dry bool) ([]store.ImportChange, error)) int {
	var dry *bool
	return a.withDB(ctx, "import "+what, "FILE.csv", desc, args, 1,
		func(fs *flag.FlagSet) { dry = fs.Bool("dry-run", false, "print what would change, change nothing") },
		func(db *store.DB, pos []string) int {
			f, err := os.Open(pos[0])
			if err != nil {
				return a.fail("%v", err)
			}
			defer f.Close()
			changes, err := run(db, f, *dry)
			if err != nil {
				return a.fail("import %s from %s: %v (nothing was changed)", what, pos[0], err)
			}
			counts := map[string]int{}
			verb := map[string]string{"add": "add", "update": "update", "unchanged": "unchanged"}
			if *dry {
				verb = map[string]string{"add": "would add", "update": "would update", "unchanged": "unchanged"}
			}
			for _, c := range changes {
				counts[c.Action]++
				if c.Action == "unchanged" {
					continue
				}
				fmt.Fprintf(a.stdout, "line %d: %s %s", c.Line, verb[c.Action], c.Object)
				if c.Detail != "" {
					fmt.Fprintf(a.stdout, ": %s", c.Detail)
				}
				fmt.Fprintln(a.stdout)
			}
			summary := fmt.Sprintf("%d added, %d updated, %d unchanged", counts["add"], counts["update"], counts["unchanged"])
			if *dry {
				summary = fmt.Sprintf("dry run: %d would be added, %d updated, %d unchanged; nothing was changed", counts["add"], counts["update"], counts["unchanged"])
			}
			fmt.Fprintln(a.stdout, summary)
			return exitOK
		})
}
