package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/backupreport/backupreport/store"
	"github.com/backupreport/backupreport/store/metrics"
)

// storageOptions are the flags for raw log quotas and retention; serve
// and "backupreport storage" share them.
type storageOptions struct {
	quota     *int64
	retention *int
}

func addStorageFlags(fs *flag.FlagSet) *storageOptions {
	return &storageOptions{
		quota: fs.Int64("customer-log-quota", store.DefaultLogQuota, "`BYTES` of raw logs kept per customer (compressed, as stored); past it the oldest logs are deleted,\n"+
			"their results kept. An admin may set a customer's own cap on its page. 0: no cap"),
		retention: fs.Int("raw-log-retention", store.DefaultRetentionDays, "`DAYS` raw logs are kept; older ones are deleted, their results kept. 0: forever"),
	}
}

func (o *storageOptions) validate() error {
	if *o.quota < 0 {
		return fmt.Errorf("--customer-log-quota %d: want 0 (no cap) or more bytes", *o.quota)
	}
	if *o.retention < 0 {
		return fmt.Errorf("--raw-log-retention %d: want 0 (forever) or more days", *o.retention)
	}
	return nil
}

// storageEvery is how often serve's storage job runs.
const storageEvery = time.Hour

// registerSpaceGauges adds the database's sizes and the free disk space to
// /metrics, read at each scrape.
func registerSpaceGauges(reg *metrics.Registry, db *store.DB) {
	space := func(pick func(store.Space) int64) func() float64 {
		return func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			sp, err := db.Space(ctx)
			if err != nil {
				return -1
			}
			return float64(pick(sp))
		}
	}
	reg.MustRegister(
		metrics.NewGaugeFunc(metrics.GaugeOpts{Name: "backupreport_database_bytes", Help: "Size of the database file."},
			space(func(s store.Space) int64 { return s.DBBytes })),
		metrics.NewGaugeFunc(metrics.GaugeOpts{Name: "backupreport_database_wal_bytes", Help: "Size of the database's write-ahead log."},
			space(func(s store.Space) int64 { return s.WALBytes })),
		metrics.NewGaugeFunc(metrics.GaugeOpts{Name: "backupreport_data_disk_free_bytes", Help: "Free disk space of the data folder (-1: unknown)."},
			space(func(s store.Space) int64 { return s.DiskFreeBytes })),
	)
}
