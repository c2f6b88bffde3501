package main

import (
	"context"
	"flag"
	"log/slog"
	"time"

	"github.com/backupreport/backupreport/store"
)

// mailOptions are serve's flags for the missing-report check, emails and
// webhooks.
type mailOptions struct{}

func addMailFlags(fs *flag.FlagSet) *mailOptions { return &mailOptions{} }

// startScheduler starts the missing-report check and the email schedule;
// it stops when ctx ends.
func startScheduler(ctx context.Context, a *app, db *store.DB, log *slog.Logger, loc *time.Location, o *mailOptions) error {
	return nil
}
