package names

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckAccepts(t *testing.T) {
	for _, c := range []struct{ why, name string }{
		{"a plain server name", "exch01"},
		{"a NetBIOS-style name", "SRV-DC_01.LOCAL"},
		{"a name with spaces inside", "Exchange Büro 2"},
		{"German umlauts and ß", "Müller-Straße"},
		{"a Cyrillic name with digits and a dash", "Сервер-01"},
		{"a Greek name", "Αθήνα"},
		{"Latin with Han and kana, as Japanese writes", "東京ノード-fs01"},
		{"Latin with Han and Hangul", "서울-本社-nas"},
		{"Latin with Han and Bopomofo", "台北ㄅ-nas"},
		{"the Katakana letter ノ, though it looks like a slash", "ノート"},
		{"a letter with a stroke, which is not a slash", "Søren"},
		{"common punctuation", "acme (old) #2, v1.5 & co."},
		{"an emoji", "nas 🚀"},
		{"a name of exactly MaxBytes bytes", strings.Repeat("a", MaxBytes)},
		{"an Arabic name", "الخادم"},
	} {
		t.Run(c.why, func(t *testing.T) {
			if err := Check(Server, c.name); err != nil {
				t.Errorf("Check(%q) = %v, want nil", c.name, err)
			}
		})
	}
}

func TestCheckRefuses(t *testing.T) {
	for _, c := range []struct{ why, name, want string }{
		{"an empty name", "", "is empty"},
		{"invalid UTF-8", "ab\xffcd", "not valid UTF-8"},
		{"a name over MaxBytes bytes", strings.Repeat("ä", 126), "252 bytes long, over the limit of 251"},
		{"a dot", ".", "is not a name"},
		{"two dots", "..", "is not a name"},
		{"a decomposed accent (not NFC)", "Mu\u0308ller", "not in Unicode form NFC"},
		{"a leading space", " acme", "begins or ends with a space"},
		{"a trailing space", "acme ", "begins or ends with a space"},
		{"a slash", "acme/fs01", `contains '/', which separates folders`},
		{"a backslash", `acme\fs01`, `contains '\\', which separates folders`},
		{"U+2215 DIVISION SLASH", "fs\u221501", `U+2215 DIVISION SLASH (∕), which looks like "/"; use - or _ instead`},
		{"U+2044 FRACTION SLASH", "fs\u204401", `U+2044 FRACTION SLASH (⁄), which looks like "/"`},
		{"U+29F8 BIG SOLIDUS", "fs\u29F801", `U+29F8 BIG SOLIDUS (⧸), which looks like "/"`},
		{"U+FF0F FULLWIDTH SOLIDUS", "fs\uFF0F01", `U+FF0F FULLWIDTH SOLIDUS (／), which looks like "/"`},
		{"U+FF3C FULLWIDTH REVERSE SOLIDUS", "fs\uFF3C01", `U+FF3C FULLWIDTH REVERSE SOLIDUS (＼), which looks like "\"`},
		{"U+29F5 REVERSE SOLIDUS OPERATOR", "fs\u29F501", `U+29F5 REVERSE SOLIDUS OPERATOR (⧵), which looks like "\"`},
		{"U+2216 SET MINUS", "fs\u221601", `U+2216 SET MINUS (∖), which looks like "\"`},
		{"U+FE68 SMALL REVERSE SOLIDUS", "fs\uFE6801", `U+FE68 SMALL REVERSE SOLIDUS (﹨), which looks like "\"`},
		{"a combining long solidus overlay", "fs\u033801", `U+0338 COMBINING LONG SOLIDUS OVERLAY, which looks like "/"`},
		{"a character that decomposes to a slash overlay", "a≠b", `U+2260 (≠), which looks like "/"`},
		{"a fraction, which holds a fraction slash", "fs½", `U+00BD (½), which looks like "/"`},
		{"a compatibility character holding a slash", "\u2100", `U+2100 (℀), which looks like "/"`},
		{"a tab", "fs\t01", "control character U+0009"},
		{"a NUL byte", "fs\x0001", "control character U+0000"},
		{"DEL", "fs\x7f01", "control character U+007F"},
		{"a C1 control", "fs\u008501", "control character U+0085"},
		{"a zero-width space", "fs\u200B01", "invisible character U+200B ZERO WIDTH SPACE"},
		{"a zero-width joiner", "fs\u200D01", "invisible character U+200D ZERO WIDTH JOINER"},
		{"a right-to-left override", "fs\u202E10", "invisible character U+202E RIGHT-TO-LEFT OVERRIDE"},
		{"a byte-order mark", "\uFEFFacme", "invisible character U+FEFF ZERO WIDTH NO-BREAK SPACE"},
		{"a soft hyphen", "fs\u00AD01", "invisible character U+00AD SOFT HYPHEN"},
		{"a variation selector", "fs\uFE0F01", "invisible character U+FE0F"},
		{"a Hangul filler", "fs\u316401", "invisible character U+3164 HANGUL FILLER"},
		{"a no-break space", "fs\u00A001", "special space U+00A0 NO-BREAK SPACE; use an ordinary space"},
		{"an ideographic space", "fs\u300001", "special space U+3000 IDEOGRAPHIC SPACE"},
		{"a line separator", "fs\u202801", "special space U+2028"},
		{"the replacement character", "fs\uFFFD01", "U+FFFD, which stands for text that was garbled"},
		{"a private-use character", "fs\uE00001", "private-use character U+E000"},
		{"an unassigned code point", "fs\u0378", "U+0378, which is not an assigned Unicode character"},
		{"an unassigned default-ignorable code point", "fs\U000E0080", "invisible character U+E0080"},
		{"a mathematical bold letter", "𝐚cme", `U+1D41A (𝐚), a variant of "a"; write "a" instead`},
		{"fullwidth letters", "ＡＣＭＥ", `a variant of "A"`},
		{"a ligature", "oﬃce", `a variant of "ffi"`},
		{"a superscript digit", "fs²", `a variant of "2"`},
		{"a Cyrillic a among Latin letters", "\u0430cme", "mixes Cyrillic and Latin letters ('а' is Cyrillic, 'c' is Latin)"},
		{"a Greek omicron among Latin letters", "micr\u03BFsoft", "mixes Latin and Greek letters ('m' is Latin, 'ο' is Greek)"},
		{"Cyrillic and Greek", "Сервер-Α", "mixes Cyrillic and Greek letters"},
		{"Hangul with kana", "서울ノ", "mixes Hangul and Katakana letters"},
	} {
		t.Run(c.why, func(t *testing.T) {
			err := Check(Customer, c.name)
			var ne *Error
			if !errors.As(err, &ne) {
				t.Fatalf("Check(%q) = %v, want an *Error", c.name, err)
			}
			if ne.Kind != Customer || ne.Name != c.name {
				t.Errorf("Check(%q): error names %v %q", c.name, ne.Kind, ne.Name)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("Check(%q) = %q, want it to say %q", c.name, err, c.want)
			}
			if !strings.HasPrefix(err.Error(), "customer name ") {
				t.Errorf("Check(%q) = %q, want it to start with the kind", c.name, err)
			}
		})
	}
}

func TestErrorQuotesLongNamesShort(t *testing.T) {
	err := Check(Server, strings.Repeat("ü", 200))
	if msg := err.Error(); len(msg) > 200 || !strings.Contains(msg, `"... is 400 bytes long`) {
		t.Errorf("message %q is not cut short", msg)
	}
}

func TestNormalize(t *testing.T) {
	for _, c := range []struct{ why, in, want string }{
		{"a decomposed umlaut is composed", "Mu\u0308ller", "Müller"},
		{"an NFC name is kept", "Müller", "Müller"},
		{"a compatibility character is kept (NFC, not NFKC)", "fs\uFF0F01", "fs\uFF0F01"},
		{"invalid UTF-8 is kept for Check to refuse", "a\xff", "a\xff"},
	} {
		t.Run(c.why, func(t *testing.T) {
			if got := Normalize(c.in); got != c.want {
				t.Errorf("Normalize(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}

func TestEqual(t *testing.T) {
	for _, c := range []struct {
		why  string
		a, b string
		want bool
	}{
		{"the same name", "acme", "acme", true},
		{"ASCII case is ignored", "EXCH01", "exch01", true},
		{"case beyond ASCII is not, as in the database", "BÜRO", "Büro", false},
		{"NFC and decomposed forms are equal", "Mu\u0308ller", "Müller", true},
		{"decomposed and NFC with other ASCII case", "MU\u0308LLER", "Müller", false},
		{"decomposed with other ASCII case", "mu\u0308LLER", "Müller", true},
		{"a look-alike slash is not a slash", "fs\u221501", "fs/01", false},
		{"different lengths", "acme", "acme2", false},
		{"the Kelvin sign is K in NFC, so the same name", "\u212Aserver", "kserver", true},
	} {
		t.Run(c.why, func(t *testing.T) {
			if got := Equal(c.a, c.b); got != c.want {
				t.Errorf("Equal(%q, %q) = %v, want %v", c.a, c.b, got, c.want)
			}
		})
	}
}

func BenchmarkCheck(b *testing.B) {
	for _, c := range []struct{ why, name string }{
		{"ascii", "EXCH01-backup"},
		{"umlauts", "Müller-Straße Büro 2"},
		{"cyrillic", "Сервер-резервного-копирования-01"},
		{"longest", strings.Repeat("ü", MaxBytes/2)},
	} {
		b.Run(c.why, func(b *testing.B) {
			for b.Loop() {
				if err := Check(Server, c.name); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
