package report

import (
	"context"
	"strings"
	"testing"

	"github.com/backupreport/backupreport/store"
)

func TestKeyPagesShowAForcedCommand(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.db.AddCustomer(ctx, "t", store.Customer{Slug: "globex"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.AddServer(ctx, "t", "globex", "FS02", false); err != nil {
		t.Fatal(err)
	}
	forced := "cat > /reports/globex/FS02.out"
	if _, err := e.db.AddKey(ctx, "t", store.Key{Customer: "globex", Server: "FS02", Fingerprint: "SHA256:forced",
		Type: "ssh-ed25519", ForcedCommand: forced}); err != nil {
		t.Fatal(err)
	}
	c := e.login("carol")
	for _, p := range []string{"/keys", "/customers/globex"} {
		if _, body := c.get(p); !strings.Contains(body, "forced: <code>"+inPage(forced)+"</code>") {
			t.Errorf("%s does not show the key's forced command", p)
		}
	}
}
