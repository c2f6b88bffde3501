package store

import (
	"context"
	"errors"
	"testing"
)

func TestOnboard(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	key := func(fp string) Key {
		return Key{Fingerprint: fp, Type: "ssh-ed25519", Bits: 256, PublicKey: "ssh-ed25519 AAAA" + fp}
	}

	o, err := db.Onboard(ctx, "tom", Onboarding{Customer: "acme", CustomerName: "Acme Accounting", Server: "exch01", Key: key("SHA256:a")})
	if err != nil {
		t.Fatal(err)
	}
	if !o.NewCustomer || !o.NewServer || o.KeyAlreadyBound || o.Customer.Name != "Acme Accounting" || o.Server.Pending ||
		o.Key.Server != "exch01" || o.Key.ServerID == nil || *o.Key.ServerID != o.Server.ID {
		t.Errorf("first onboarding = %+v", o)
	}
	for _, c := range []struct {
		name                         string
		in                           Onboarding
		newCustomer, newServer, same bool
		conflict                     bool
	}{
		{"the same again changes nothing", Onboarding{Customer: "ACME", Server: "EXCH01", Key: key("SHA256:a")}, false, false, true, false},
		{"a second server of a known customer", Onboarding{Customer: "acme", Server: "fs01", Key: key("SHA256:b")}, false, true, false, false},
		{"a key bound elsewhere is refused", Onboarding{Customer: "acme", Server: "dc01", Key: key("SHA256:a")}, false, false, false, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			o, err := db.Onboard(ctx, "tom", c.in)
			if c.conflict {
				if !errors.Is(err, ErrConflict) {
					t.Fatalf("err = %v, want ErrConflict", err)
				}
				if _, err := db.ServerByName(ctx, "acme", c.in.Server); !errors.Is(err, ErrNotFound) {
					t.Errorf("a refused onboarding left server %s behind", c.in.Server)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if o.NewCustomer != c.newCustomer || o.NewServer != c.newServer || o.KeyAlreadyBound != c.same {
				t.Errorf("got new customer %v, new server %v, already bound %v", o.NewCustomer, o.NewServer, o.KeyAlreadyBound)
			}
		})
	}
	if _, err := db.Onboard(ctx, "tom", Onboarding{Customer: "a/b", Server: "x", Key: key("SHA256:c")}); err == nil {
		t.Error("a customer name with a slash was accepted")
	}
	if _, err := db.FirstUpload(ctx, o.Server.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("first upload before any: %v, want ErrNotFound", err)
	}
}

func TestTOTPStepsAndRecoveryCodesWorkOnce(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	u, err := db.AddUser(ctx, "t", User{Username: "tom", Role: RoleTech}, "a long password")
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := db.UseTOTPStep(ctx, u.ID, 100); ok {
		t.Error("a step was accepted for a user without a second factor")
	}
	if err := db.EnableTOTP(ctx, "web:tom", u.ID, "JBSWY3DPEHPK3PXP", 100, []string{HashSecret("aaaaa-bbbbb"), HashSecret("ccccc-ddddd")}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		step int64
		want bool
	}{{100, false}, {99, false}, {101, true}, {101, false}, {103, true}, {102, false}} {
		if ok, err := db.UseTOTPStep(ctx, u.ID, c.step); err != nil || ok != c.want {
			t.Errorf("step %d: %v, %v; want %v", c.step, ok, err, c.want)
		}
	}
	if ok, _ := db.UseRecoveryCode(ctx, "web:tom", u.ID, HashSecret("aaaaa-bbbbb")); !ok {
		t.Error("an unused recovery code was refused")
	}
	if ok, _ := db.UseRecoveryCode(ctx, "web:tom", u.ID, HashSecret("aaaaa-bbbbb")); ok {
		t.Error("a used recovery code worked again")
	}
	if n, _ := db.RecoveryCodesLeft(ctx, u.ID); n != 1 {
		t.Errorf("recovery codes left = %d, want 1", n)
	}
	if err := db.ResetTOTP(ctx, "web:alice", u.ID); err != nil {
		t.Fatal(err)
	}
	if tt, _ := db.UserTOTP(ctx, u.ID); tt.Secret != "" {
		t.Error("reset left the secret")
	}
	if ok, _ := db.UseRecoveryCode(ctx, "web:tom", u.ID, HashSecret("ccccc-ddddd")); ok {
		t.Error("a recovery code outlived the reset")
	}
}
