package server

import (
	"strings"
	"testing"
)

func FuzzParseCommand(f *testing.F) {
	for _, raw := range []string{
		"cat > /reports/c/s.out", "cat >/reports/c/s.out", "cat>/reports/c/s.out",
		"cat - > /reports/c/s.out", "cat >> /reports/c/s.out\r\n",
		`cat > "/reports/acme corp/file srv.out"`, `cat > '/reports/a b/c.out'`,
		"cat > /reports/c/s.out; sh", "cat | sh", "scp -t /reports", "cat > ''",
		"cat > /reports/c/s.out > x", `cat > "a'b"`, "cat > 'a\"b'", `cat>"&"`, `c''at>'0'`,
	} {
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		c, err := ParseCommand(raw)
		if err != nil {
			if c != (Command{}) {
				t.Fatalf("ParseCommand(%q) = %+v with error %v", raw, c, err)
			}
			if strings.ContainsAny(err.Error(), "\n\r") && !strings.Contains(err.Error(), `"`) {
				t.Fatalf("ParseCommand(%q): multi-line error %q", raw, err)
			}
			return
		}
		if c.Path == "" || strings.ContainsRune(c.Path, 0) {
			t.Fatalf("ParseCommand(%q) accepted path %q", raw, c.Path)
		}
		for _, b := range []byte(c.Path) {
			if b < 0x20 || b == 0x7f {
				t.Fatalf("ParseCommand(%q) accepted control byte %#x in %q", raw, b, c.Path)
			}
		}
		if !strings.Contains(raw, ">") {
			t.Fatalf("ParseCommand(%q) accepted a command without >", raw)
		}
		// The path, single-quoted, reads back as itself.
		if !strings.Contains(c.Path, "'") {
			again, err := ParseCommand("cat > '" + c.Path + "'")
			if err != nil || again.Path != c.Path {
				t.Fatalf("ParseCommand(%q) gave %q, which does not read back: %+v, %v", raw, c.Path, again, err)
			}
		}
		for _, bad := range []string{"|", ";", "&", "<", "`", "$("} {
			if strings.Contains(raw, bad) && !strings.ContainsAny(raw, `'"`) {
				t.Fatalf("ParseCommand(%q) accepted an unquoted %q", raw, bad)
			}
		}
	})
}

// FuzzOpenMarker: whatever a client sends, the marker never panics, only
// ever sets the read flag bit, and marks the same bytes however the
// stream is split into reads.
func FuzzOpenMarker(f *testing.F) {
	f.Add([]byte{0, 0, 0, 20, 3, 0, 0, 0, 1, 0, 0, 0, 3, 'a', '.', 'o', 0, 0, 0, 0x1a, 0, 0, 0, 0}, 3)
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 1, 3}, 1)
	f.Fuzz(func(t *testing.T, in []byte, size int) {
		if size <= 0 || size > len(in) {
			size = len(in) + 1
		}
		whole := append([]byte(nil), in...)
		var m openMarker
		m.scan(whole)
		split := append([]byte(nil), in...)
		var m2 openMarker
		for i := 0; i < len(split); i += size {
			m2.scan(split[i:min(i+size, len(split))])
		}
		for i := range in {
			if whole[i] != split[i] {
				t.Fatalf("byte %d: %#x read whole, %#x read in pieces of %d", i, whole[i], split[i], size)
			}
			if whole[i]&^sshFxfRead != in[i]&^sshFxfRead {
				t.Fatalf("byte %d changed from %#x to %#x", i, in[i], whole[i])
			}
		}
	})
}

// FuzzSCPSinkTarget: a sink target is never empty and holds no control
// byte (NUL, CR, LF included), and $ or ` only from inside '...'.
func FuzzSCPSinkTarget(f *testing.F) {
	for _, raw := range []string{
		"scp -t /reports/c/s.out", "scp -t '/reports/c/s.out'", `scp -v -t -- "/reports/a b/"`,
		"scp -t '/reports/c/s.out' \r\n\r\n", "scp -f x", "scp -t a; sh", "scp -t $(id)", `s'c'p -'t' x`,
	} {
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		target, sink := scpSinkTarget(raw)
		if !sink {
			return
		}
		if target == "" {
			t.Fatalf("scpSinkTarget(%q): an empty sink target", raw)
		}
		for _, b := range []byte(target) {
			if b < 0x20 || b == 0x7f {
				t.Fatalf("scpSinkTarget(%q) accepted control byte %#x in %q", raw, b, target)
			}
		}
		if !strings.Contains(raw, "'") && strings.ContainsAny(target, "`$") { // only '...' keeps them literal
			t.Fatalf("scpSinkTarget(%q) = %q: command substitution passed", raw, target)
		}
	})
}
