package main

import (
	"context"
	"flag"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/backupreport/backupreport/store"
)

// httpOptions are serve's flags for the web interface.
type httpOptions struct {
	addr *string
}

func addHTTPFlags(fs *flag.FlagSet) *httpOptions {
	return &httpOptions{addr: fs.String("http-addr", ":8080", "address the web interface listens on")}
}

// startHTTP starts the web interface; the returned function stops it.
func startHTTP(ctx context.Context, a *app, db *store.DB, log *slog.Logger, loc *time.Location, reg *prometheus.Registry, o *httpOptions) (func(context.Context) error, error) {
	return nil, nil
}
