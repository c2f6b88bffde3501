package store

import (
	"context"
	"testing"
)

func TestForcedCommandIsKeptOnAServerBoundKeyOnly(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	if _, err := db.AddCustomer(ctx, "t", Customer{Slug: "acme"}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.AddServer(ctx, "t", "acme", "exch01", false); err != nil {
		t.Fatal(err)
	}
	forced := "cat > /reports/acme/exch01.out"
	k, err := db.AddKey(ctx, "t", Key{Customer: "acme", Server: "exch01", Fingerprint: "SHA256:a", Type: "ssh-ed25519", ForcedCommand: forced})
	if err != nil {
		t.Fatal(err)
	}
	if k.ForcedCommand != forced {
		t.Errorf("added key's forced command = %q, want %q", k.ForcedCommand, forced)
	}
	ks, err := db.Keys(ctx)
	if err != nil || len(ks) != 1 || ks[0].ForcedCommand != forced {
		t.Errorf("Keys() = %+v, %v; want the forced command kept", ks, err)
	}
	if _, err := db.AddKey(ctx, "t", Key{Customer: "acme", Fingerprint: "SHA256:b", Type: "ssh-ed25519", ForcedCommand: forced}); err == nil {
		t.Error("a customer-wide key with a forced command was added")
	}
	plain, err := db.AddKey(ctx, "t", Key{Customer: "acme", Server: "exch01", Fingerprint: "SHA256:c", Type: "ssh-ed25519"})
	if err != nil || plain.ForcedCommand != "" {
		t.Errorf("a key without one: %+v, %v", plain, err)
	}
}
