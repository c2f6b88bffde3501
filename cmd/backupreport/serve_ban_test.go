package main

import (
	"flag"
	"testing"
)

func TestBanAllowTakesAddressesAndCommaSeparatedCIDRs(t *testing.T) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	o := addBanFlags(fs)
	if err := fs.Parse([]string{"--ban-allow", "10.0.0.0/8, 192.0.2.1,2001:db8::/32", "--ban-allow", "::ffff:198.51.100.7", "--ban-allow", "10.1.2.3/8"}); err != nil {
		t.Fatal(err)
	}
	if got, want := o.allow.String(), "10.0.0.0/8,192.0.2.1/32,2001:db8::/32,198.51.100.7/32,10.0.0.0/8"; got != want {
		t.Errorf("--ban-allow = %s, want %s", got, want)
	}
	for _, bad := range []string{"example.com", "10.0.0.0/33"} {
		var l prefixList
		if err := l.Set(bad); err == nil {
			t.Errorf("--ban-allow %q accepted", bad)
		}
	}
}

func TestServeRefusesANegativeBanThreshold(t *testing.T) {
	out, code := cliRun(t, t.TempDir(), "serve", "--ssh-addr", "127.0.0.1:0", "--http-addr", "", "--ban-threshold", "-1")
	if code != exitUsage {
		t.Errorf("exit %d, output %q; want a usage error", code, out)
	}
}
