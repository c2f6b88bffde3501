package server

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/backupreport/backupreport/store"
	"github.com/backupreport/backupreport/store/logkey"
)

// DefaultRevokeCheck is how often open connections' keys are checked for
// revocation. Revoking a key (web, CLI, another node) closes the
// connections it opened within this time; sessions and commits check the
// key themselves too, so nothing is stored after the revocation is seen.
const DefaultRevokeCheck = 5 * time.Second

// logins keeps the authenticated connections by key, so that revoking a
// key can close them. Its size is bounded by the open connections.
type logins struct {
	mu    sync.Mutex
	byKey map[int64]map[*trackedConn]string // key ID -> connections -> fingerprint
}

func (l *logins) add(keyID int64, fp string, c *trackedConn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	m := l.byKey[keyID]
	if m == nil {
		m = map[*trackedConn]string{}
		l.byKey[keyID] = m
	}
	m[c] = fp
	c.mu.Lock()
	closed := c.done
	if !closed {
		c.onClose = func() { l.remove(keyID, c) }
	}
	c.mu.Unlock()
	if closed { // closed meanwhile: nothing will remove it
		delete(m, c)
		if len(m) == 0 {
			delete(l.byKey, keyID)
		}
	}
}

func (l *logins) remove(keyID int64, c *trackedConn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.byKey[keyID], c)
	if len(l.byKey[keyID]) == 0 {
		delete(l.byKey, keyID)
	}
}

// snapshot returns one fingerprint per key with open connections.
func (l *logins) snapshot() map[int64]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[int64]string, len(l.byKey))
	for id, m := range l.byKey {
		for _, fp := range m {
			out[id] = fp
			break
		}
	}
	return out
}

// closeKey closes every connection of a key and returns how many.
func (l *logins) closeKey(keyID int64) int {
	l.mu.Lock()
	var cs []*trackedConn
	for c := range l.byKey[keyID] {
		cs = append(cs, c)
	}
	l.mu.Unlock()
	for _, c := range cs {
		c.Close()
	}
	return len(cs)
}

// keyRevokedSince reports whether the key of id was revoked or removed
// since the login, trusting the key read at the login when it is younger
// than fresh (see keyFresh): a session's start. A failed lookup counts as
// not revoked: the caller's own database access fails then too. The check
// that decides whether an upload is stored is StoreUpload's, in the
// result's transaction (store.Upload.KeyID).
func (s *Server) keyRevokedSince(ctx context.Context, id *identity, fresh time.Duration) bool {
	if fresh > 0 && !id.checked.IsZero() && time.Since(id.checked) < fresh {
		return false
	}
	k, err := s.db.KeyByFingerprint(ctx, id.key.Fingerprint)
	if errors.Is(err, store.ErrNotFound) {
		return true
	}
	return err == nil && (k.RevokedAt != nil || k.ID != id.key.ID)
}

// watchRevocations closes the connections of revoked keys until ctx ends.
func (s *Server) watchRevocations(ctx context.Context) {
	if s.cfg.RevokeCheck <= 0 {
		return
	}
	t := time.NewTicker(s.cfg.RevokeCheck)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for keyID, fp := range s.logins.snapshot() {
			k, err := s.db.KeyByFingerprint(ctx, fp)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err == nil && k.RevokedAt == nil && k.ID == keyID {
				continue
			}
			if n := s.logins.closeKey(keyID); n > 0 {
				s.metrics.RevokedClosed.Add(float64(n))
				s.log.Info("ssh connections closed: key revoked", logkey.Fingerprint, fp, logkey.Connections, n)
			}
		}
	}
}
