package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	iofs "io/fs"
	"os"
	"path/filepath"

	"github.com/backupreport/backupreport/report"
	"github.com/backupreport/backupreport/store"
)

func init() {
	register(&command{name: "backup", summary: "write a consistent copy of the database, also while serve runs", run: runBackup})
	register(&command{name: "storage", summary: "what the database and each customer's raw logs take", run: runStorage})
}

func runBackup(ctx context.Context, a *app, args []string) int {
	fs := a.newFlags("backup", "FILE [--force]",
		"Writes a consistent copy of the database to FILE with SQLite's VACUUM INTO. It may run while\n"+
			"serve runs: uploads go on meanwhile, and the copy holds what was committed when it began.\n"+
			"The copy is compact, needs no WAL file, and opens as a data folder's "+store.FileName+".\n"+
			"It is written under a temporary name beside FILE and renamed when complete, so a failed\n"+
			"backup leaves no partial FILE.\n\n"+
			"Exit status: 0 when the copy was written, 1 when it failed, 2 on a usage error.")
	data := dataFlag(fs)
	force := fs.Bool("force", false, "replace FILE if it exists")
	pos, code := a.parseFlags(fs, args)
	if code >= 0 {
		return code
	}
	if len(pos) != 1 {
		return a.usageErr(fs, "backup: want one FILE, got %d", len(pos))
	}
	file := pos[0]
	if *data.database != "" {
		return a.fail("backup: --database is PostgreSQL; back it up with pg_dump")
	}
	dbPath := filepath.Join(*data.dir, store.FileName)
	if _, err := os.Stat(dbPath); err != nil {
		return a.fail("backup: no database at %s: %v", dbPath, err)
	}
	db, err := store.Open(ctx, dbPath)
	if err != nil {
		return a.fail("backup: %v", err)
	}
	defer db.Close()
	size, err := db.Backup(ctx, file, *force)
	if errors.Is(err, iofs.ErrExist) {
		return a.fail("backup: %s exists; choose another name or add --force to replace it", file)
	}
	if err != nil {
		return a.fail("%v", err)
	}
	abs, _ := filepath.Abs(file)
	fmt.Fprintf(a.stdout, "backup written: %s (%d bytes, %s)\n", abs, size, report.HumanBytes(size))
	return exitOK
}

// storageReport is what "storage --json" prints.
type storageReport struct {
	Space         store.Space       `json:"space"`
	RetentionDays int               `json:"raw_log_retention_days"`
	DefaultQuota  int64             `json:"customer_log_quota"`
	Customers     []customerStorage `json:"customers"`
}

type customerStorage struct {
	store.CustomerStorage
	Quota      int64    `json:"quota"` // the cap that applies; 0: none
	UsePercent *float64 `json:"use_percent,omitempty"`
}

func runStorage(ctx context.Context, a *app, args []string) int {
	var asJSON *bool
	var so *storageOptions
	return a.withDB(ctx, "storage", "[--json]",
		"Prints the sizes of the database and its WAL, the free disk space, and per customer the raw\n"+
			"logs kept (count, bytes stored and received, the oldest) against its cap. Give the same\n"+
			"--customer-log-quota and --raw-log-retention as serve (or their BACKUPREPORT_ variables)\n"+
			"to see the caps serve applies.",
		args, 0, func(fs *flag.FlagSet) {
			asJSON = fs.Bool("json", false, "print one JSON object")
			so = addStorageFlags(fs)
		},
		func(db *store.DB, _ []string) int {
			if err := so.validate(); err != nil {
				return a.fail("%v", err)
			}
			sp, err := db.Space(ctx)
			if err != nil {
				return a.fail("%v", err)
			}
			cs, err := db.StorageByCustomer(ctx)
			if err != nil {
				return a.fail("%v", err)
			}
			rep := storageReport{Space: sp, RetentionDays: *so.retention, DefaultQuota: *so.quota, Customers: []customerStorage{}}
			for _, c := range cs {
				r := customerStorage{CustomerStorage: c, Quota: store.EffectiveLogQuota(c.QuotaOverride, *so.quota)}
				if r.Quota > 0 {
					p := 100 * float64(c.StoredBytes) / float64(r.Quota)
					r.UsePercent = &p
				}
				rep.Customers = append(rep.Customers, r)
			}
			if *asJSON {
				return a.printJSON(rep)
			}
			free := "unknown"
			if sp.DiskFreeBytes >= 0 {
				free = report.HumanBytes(sp.DiskFreeBytes)
			}
			fmt.Fprintf(a.stdout, "database %s: %s, WAL %s, %s free inside, %s free on disk\n",
				sp.Path, report.HumanBytes(sp.DBBytes), report.HumanBytes(sp.WALBytes), report.HumanBytes(sp.FreePageBytes), free)
			retention := "forever"
			if *so.retention > 0 {
				retention = fmt.Sprintf("%d days", *so.retention)
			}
			fmt.Fprintf(a.stdout, "raw logs kept %s\n\n", retention)
			tw := a.table()
			fmt.Fprintln(tw, "CUSTOMER\tLOGS\tSTORED\tRECEIVED\tOLDEST\tCAP\tUSE")
			for _, r := range rep.Customers {
				oldest, limit, use := "-", "none", "-"
				if r.Oldest != nil {
					oldest = r.Oldest.Local().Format("2006-01-02")
				}
				if r.Quota > 0 {
					limit, use = report.HumanBytes(r.Quota), fmt.Sprintf("%.0f%%", *r.UsePercent)
				}
				if r.QuotaOverride != nil {
					limit += " (own)"
				}
				fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\n", r.Customer, r.Logs, report.HumanBytes(r.StoredBytes), report.HumanBytes(r.OriginalBytes), oldest, limit, use)
			}
			tw.Flush()
			return exitOK
		})
}
