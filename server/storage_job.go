package server

import (
	"context"
	"log/slog"
	"time"

	"github.com/backupreport/backupreport/store"
	"github.com/backupreport/backupreport/store/logkey"
)

// StorageJob deletes raw logs older than the retention and those of
// customers over their cap (a lowered cap, or what an upload's own check
// left undone). Each deletion is a short transaction; see store.PruneOptions.
// serve runs it at start and hourly (notify.Config.Maintain).
type StorageJob struct {
	DB            *store.DB
	Log           *slog.Logger
	Metrics       *StorageMetrics
	Quota         int64 // the default cap; 0: none
	RetentionDays int   // 0: keep forever
	Opts          store.PruneOptions
}

// Run makes one pass; it stops early, leaving the rest to the next pass,
// when ctx ends.
func (j *StorageJob) Run(ctx context.Context, now time.Time) {
	if j.RetentionDays > 0 {
		st, err := j.DB.PruneRawLogsBefore(ctx, now.AddDate(0, 0, -j.RetentionDays), j.Opts)
		j.Metrics.Record(j.Log, st)
		if ctx.Err() != nil {
			return // serve is stopping; the next run goes on
		}
		if err != nil {
			j.Log.Error("raw log retention", logkey.Err, err)
		}
	}
	cs, err := j.DB.StorageByCustomer(ctx)
	if err != nil {
		j.Log.Error("raw log quotas", logkey.Err, err)
		return
	}
	for _, c := range cs {
		if q := store.EffectiveLogQuota(c.QuotaOverride, j.Quota); q == 0 || c.StoredBytes <= q {
			continue
		}
		st, err := j.DB.EnforceLogQuota(ctx, c.CustomerID, j.Quota, j.Opts)
		j.Metrics.Record(j.Log, st)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			j.Log.Error("raw log quota", logkey.Customer, c.Customer, logkey.Err, err)
		}
	}
}
