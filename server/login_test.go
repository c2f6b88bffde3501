package server

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/backupreport/backupreport/store"
)

// The login is kept on the key's record in the upload's transaction, and a
// connection that stores nothing has it recorded when it ends.
func TestLoginRecorded(t *testing.T) {
	ctx := context.Background()
	t.Run("with the connection's upload", func(t *testing.T) {
		ts := startTestServer(t, Config{})
		c := ts.dial(t)
		if _, err := upload(c, "web1", func(w io.Writer) { io.WriteString(w, shortReport) }); err != nil {
			t.Fatal(err)
		}
		k, err := ts.db.KeyByFingerprint(ctx, ts.fp)
		if err != nil {
			t.Fatal(err)
		}
		if k.LastUsedAt == nil || k.Login.Kex == "" || k.Login.SigAlgo != "ssh-ed25519" {
			t.Errorf("after an acknowledged upload, key's login = %+v at %v, want it recorded", k.Login, k.LastUsedAt)
		}
	})
	t.Run("once a connection without an upload ends", func(t *testing.T) {
		ts := startTestServer(t, Config{})
		c := ts.dial(t)
		sess, err := c.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		if out, _ := sess.CombinedOutput("ls"); !strings.Contains(string(out), "refused") {
			t.Fatalf("ls: %q, want a refusal", out)
		}
		c.Close()
		var k store.Key
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			if k, err = ts.db.KeyByFingerprint(ctx, ts.fp); err != nil {
				t.Fatal(err)
			}
			if k.LastUsedAt != nil {
				break
			}
		}
		if k.LastUsedAt == nil || k.Login.Kex == "" {
			t.Errorf("after the connection closed, key's login = %+v at %v, want it recorded", k.Login, k.LastUsedAt)
		}
	})
}
