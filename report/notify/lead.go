package notify

import (
	"context"
	"time"

	"github.com/backupreport/backupreport/store/logkey"
)

// LeadRetry is how often a node that does not run the schedule tries to
// take it over, and how often the one that runs it checks its hold (see
// store.DB.AwaitLead): a dead leader is followed within about two of these.
const LeadRetry = 10 * time.Second

// StartLed is Start on whichever node leads the schedule: with several
// serve nodes on one PostgreSQL database, exactly one runs the missing
// check, the e-mails, the webhooks and the storage job at a time, and
// another takes over when it dies. On SQLite it is Start. The returned
// function waits, until its own context ends, for the schedule to stop
// after ctx ends.
func StartLed(ctx context.Context, c Config) func(context.Context) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			retry := c.LeadRetry
			if retry <= 0 {
				retry = LeadRetry
			}
			lead, err := c.DB.AwaitLead(ctx, retry, func(err error) { c.Log.Warn("schedule lead", logkey.Err, err) })
			if err != nil {
				return // ctx ended
			}
			c.Log.Info("this node runs the schedule", logkey.Node, c.Node)
			run, cancel := context.WithCancel(ctx)
			stop := Start(run, c)
			select {
			case <-lead.Lost:
				c.Log.Warn("lost the schedule's lead (database connection); stopping the schedule here", logkey.Node, c.Node)
			case <-ctx.Done():
			}
			cancel()
			wait, cancelWait := context.WithTimeout(context.Background(), 30*time.Second)
			stop(wait)
			cancelWait()
			lead.Release()
			if ctx.Err() != nil {
				return
			}
		}
	}()
	return func(wctx context.Context) {
		select {
		case <-done:
		case <-wctx.Done():
		}
	}
}
