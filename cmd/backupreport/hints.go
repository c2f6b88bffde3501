package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/backupreport/backupreport/store"
)

// withFixHint adds to a not-found error about scope (CUSTOMER or
// CUSTOMER/SERVER) the command that creates what is missing, so that
// "exception add acme/exch02 ..." for a server not known yet says to run
// "backupreport server add acme/exch02". Other errors pass unchanged.
func withFixHint(ctx context.Context, db *store.DB, scope string, err error) error {
	if err == nil || !errors.Is(err, store.ErrNotFound) || scope == "" || scope == "global" {
		return err
	}
	cust, srv, _ := strings.Cut(scope, "/")
	if _, cerr := db.CustomerBySlug(ctx, cust); errors.Is(cerr, store.ErrNotFound) {
		if srv == "" {
			return fmt.Errorf("%w; no customer %q: add it with 'backupreport customer add %s' (see 'backupreport customer list')", err, cust, cust)
		}
		return fmt.Errorf("%w; no customer %q: set it up with 'backupreport onboard %s/%s --key FILE', or 'backupreport customer add %s' then 'backupreport server add %s/%s'",
			err, cust, cust, srv, cust, cust, srv)
	}
	if srv != "" {
		if _, serr := db.ServerByName(ctx, cust, srv); errors.Is(serr, store.ErrNotFound) {
			return fmt.Errorf("%w; no server %q of %s: add it with 'backupreport server add %s/%s' (see 'backupreport server list')", err, srv, cust, cust, srv)
		}
	}
	return err
}

// cliTime is how commands print times: the machine's zone, named by its
// abbreviation, so that a table never leaves the zone to be guessed.
const cliTime = "2006-01-02 15:04 MST"
