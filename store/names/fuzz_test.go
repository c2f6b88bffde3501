package names

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// slashLike is written out again here, apart from the table Check uses,
// so that the fuzz test does not trust that table: characters that look
// like "/" or "\" (UTS #39 confusables, the overlays).
const slashLike = "/\\\u1735\u2041\u2044\u2215\u2571\u27CB\u29F8\u3033\u31D3\u2F03\U0001D23A\uFF0F\u0337\u0338" +
	"\u2216\u2572\u27CD\u29F5\u29F9\u31D4\u2F02\U0001D20F\U0001D23B\uFE68\uFF3C\u20E5"

func FuzzCheck(f *testing.F) {
	for _, s := range []string{
		"exch01", "Müller", "Mu\u0308ller", "fs\u221501", "fs\uFF0F01", "a\u0338", "a≠b", "½", "\u0430cme",
		"東京ノード-fs01", "Сервер-01", "fs\u200B01", "\u202Eabc", " x", ".", "..", "", "\xff", "𝐚", "ＡＣＭＥ",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		n := Normalize(name)
		if Normalize(n) != n {
			t.Fatalf("Normalize(%q) = %q is not stable", name, n)
		}
		if Check(Server, name) != nil {
			return
		}
		if !utf8.ValidString(name) || !norm.NFC.IsNormalString(name) || n != name {
			t.Fatalf("accepted %q, which is not valid NFC", name)
		}
		if name == "" || name == "." || name == ".." || len(name) > MaxBytes || strings.TrimSpace(name) != name {
			t.Fatalf("accepted %q", name)
		}
		// Compatibility decompositions hide slashes (U+FF0F, "½" holds
		// U+2044): look at the fully decomposed form.
		if i := strings.IndexAny(norm.NFKD.String(name), slashLike); i >= 0 {
			t.Fatalf("accepted %q, which holds a slash or a look-alike", name)
		}
		latin, cyrillic, greek := false, false, false
		for _, r := range name {
			if unicode.In(r, unicode.Cc, unicode.Cf, unicode.Co, unicode.Zl, unicode.Zp) || (unicode.Is(unicode.Zs, r) && r != ' ') ||
				unicode.Is(unicode.Variation_Selector, r) || !unicode.IsGraphic(r) || r == utf8.RuneError {
				t.Fatalf("accepted %q, which holds the control, invisible or special character %U", name, r)
			}
			latin = latin || unicode.Is(unicode.Latin, r)
			cyrillic = cyrillic || unicode.Is(unicode.Cyrillic, r)
			greek = greek || unicode.Is(unicode.Greek, r)
		}
		if latin && (cyrillic || greek) || cyrillic && greek {
			t.Fatalf("accepted %q, which mixes Latin, Cyrillic or Greek letters", name)
		}
	})
}
