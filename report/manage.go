package report

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/backupreport/backupreport/store"
	"github.com/backupreport/backupreport/store/logkey"
	"github.com/backupreport/backupreport/store/reeval"
)

// reevalWait is how long an exception change waits for the re-evaluation
// of the last 7 days before answering; a longer one goes on in the
// background (it never blocks uploads: see reeval.Run).
const reevalWait = 5 * time.Second

// actor names a web user in the audit log.
func actor(s *session) string { return "web:" + s.User.Username }

// badRequest turns validation errors into 400s, keeping 404 and 409.
func badRequest(err error) error {
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict) {
		return err
	}
	return errorf(http.StatusBadRequest, "%v", err)
}

// back redirects to the form's "back" field, or to def.
func back(w http.ResponseWriter, r *http.Request, def string) error {
	to := r.PostFormValue("back")
	if to == "" {
		to = def
	}
	http.Redirect(w, r, safeNext(to), http.StatusSeeOther)
	return nil
}

// reevaluate re-judges the last 7 days of the results an exception
// applies to, waiting at most reevalWait; the rest goes on in the
// background. It reports whether it finished.
func (h *Handler) reevaluate(e store.Exception, s *session, reason string) bool {
	done := make(chan struct{})
	h.bg.Add(1)
	go func() {
		defer h.bg.Done()
		defer close(done)
		ctx, cancel := context.WithTimeout(h.bgCtx, time.Hour)
		defer cancel()
		st, err := reeval.AfterExceptionChange(ctx, h.db, e, h.cfg.Now(), actor(s), reason, nil)
		if err != nil {
			h.log.Error("reevaluate", logkey.Exception, e.ID, logkey.Err, err)
			return
		}
		h.log.Info("reevaluated", logkey.Exception, e.ID, logkey.Results, st.Results, logkey.Changed, st.Changed, logkey.Duration, st.Duration)
	}()
	select {
	case <-done:
		return true
	case <-time.After(reevalWait):
		return false
	}
}

// Wait waits for background re-evaluations started by exception changes
// to finish; when ctx ends first it cancels them (each batch is committed
// on its own, so a cancelled run leaves consistent results) and waits for
// them to stop. serve calls it on shutdown, before closing the database.
func (h *Handler) Wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() { h.bg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		h.bgCancel()
		<-done
		return ctx.Err()
	}
}
