package keys

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/crypto/ssh"

	"github.com/backupreport/backupreport/store/names"
)

// addFixtures seeds f with every text fixture in testdata.
func addFixtures(f *testing.F) {
	f.Helper()
	files, err := filepath.Glob("testdata/*")
	if err != nil {
		f.Fatal(err)
	}
	for _, file := range files {
		if strings.HasSuffix(file, ".sh") {
			continue
		}
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
}

func FuzzParsePublicKey(f *testing.F) {
	addFixtures(f)
	f.Add([]byte("PuTTY-User-Key-File-2: ssh-rsa\nPublic-Lines: 1\nAAAA\n"))
	f.Add([]byte("---- BEGIN SSH2 PUBLIC KEY ----\nComment: \\\n---- END SSH2 PUBLIC KEY ----"))
	f.Fuzz(func(t *testing.T, data []byte) {
		pk, info, err := ParsePublicKey(data)
		if err != nil {
			if pk != nil {
				t.Fatalf("error %v with a key", err)
			}
			return
		}
		if info.Type != pk.Type() || info.Fingerprint != ssh.FingerprintSHA256(pk) {
			t.Fatalf("info %+v does not describe %s", info, pk.Type())
		}
		// The canonical line parses back to the same key.
		again, _, _, _, err := ssh.ParseAuthorizedKey([]byte(info.Authorized))
		if err != nil || !bytes.Equal(again.Marshal(), pk.Marshal()) {
			t.Fatalf("authorized line %q does not round-trip: %v", info.Authorized, err)
		}
	})
}

func FuzzParseAuthorizedKeys(f *testing.F) {
	addFixtures(f)
	f.Add([]byte(`command="cat > /reports/a/$X" ssh-ed25519 AAAA`))
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, problems, err := ParseAuthorizedKeys(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("a bytes.Reader cannot fail, got %v", err)
		}
		lines := bytes.Count(data, []byte("\n")) + 1
		last := 0
		for _, e := range entries {
			if e.Key == nil || e.Line <= last || e.Line > lines {
				t.Fatalf("bad entry %+v (after line %d of %d)", e, last, lines)
			}
			last = e.Line
			if e.Server != "" {
				if c, s, err := ParseReportPath("/reports/" + e.Customer + "/" + e.Server + ".out"); err != nil || c != e.Customer || s != e.Server {
					t.Fatalf("entry %q/%q is not a valid report path: %v", e.Customer, e.Server, err)
				}
			} else if _, _, err := ParseReportPath("/reports/" + e.Customer + "/x.out"); err != nil {
				t.Fatalf("customer %q is not valid: %v", e.Customer, err)
			}
		}
		for _, p := range problems {
			if p.Line < 1 || p.Line > lines || p.Reason == "" {
				t.Fatalf("bad problem %+v", p)
			}
		}
	})
}

func FuzzParseReportPath(f *testing.F) {
	for _, p := range []string{
		"/reports/acme/exch01.out", "reports/a b/c d.out", "/reports/../x.out",
		"/reports/a/b\x00.out", "/reports/a/.out", "/reports/Müller/ä.out", "/reports/a/b/c.out",
	} {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, p string) {
		customer, server, err := ParseReportPath(p)
		if err != nil {
			if customer != "" || server != "" {
				t.Fatalf("error %v with names %q/%q", err, customer, server)
			}
			return
		}
		if want := "/reports/" + customer + "/" + server + ".out"; strings.TrimPrefix(p, "/") != want[1:] {
			t.Fatalf("%q gave %q/%q", p, customer, server)
		}
		for _, name := range []string{customer, server} {
			if name == "" || name == "." || name == ".." || len(name) > maxNameBytes ||
				!utf8.ValidString(name) || strings.ContainsAny(name, "/\\\x00\r\n") {
				t.Fatalf("%q gave the bad name %q", p, name)
			}
		}
	})
}

// FuzzNewNamesFitThePath checks that every name the naming rule accepts
// can be uploaded to: a customer and a server named so give a path that
// ParseReportPath takes apart into the same names.
func FuzzNewNamesFitThePath(f *testing.F) {
	for _, n := range []string{"exch01", "Müller", "Сервер-01", "東京ノード", "a b", strings.Repeat("ü", 125)} {
		f.Add(n)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if names.Check(names.Server, name) != nil {
			return
		}
		c, s, err := ParseReportPath("/reports/" + name + "/" + name + ".out")
		if err != nil || c != name || s != name {
			t.Fatalf("%q passes the naming rule but not the path: %q/%q, %v", name, c, s, err)
		}
	})
}
