// Package names holds the one rule for customer and server names: the
// folder and file names in upload paths (/reports/<customer>/<server>.out)
// and in the web interface.
//
// The rule applies when a name is created (customer add, server add, a
// rename, an import, a key import, a server registered by its first
// upload). Names stored before the rule keep working: lookups compare with
// what is stored, they do not re-check it. Package store calls Check
// wherever it inserts or renames a name, so that no path can skip it; this
// package imports nothing of the project, so that store may import it.
//
// The rule follows Unicode's own advice for identifiers that people read:
// UAX #15 (normalization), UTS #39 (confusables and mixed scripts) and
// RFC 8264 (PRECIS, which refuses compatibility characters in identifiers).
package names

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Kind says what a name names; it starts every refusal message.
type Kind string

// The kinds of names.
const (
	Customer Kind = "customer name"
	Server   Kind = "server name"
)

// MaxBytes is the longest name accepted, in bytes of UTF-8: a server's
// file name, <server>.out, then fits the 255-byte limit of file names that
// the upload path keeps (keys.ParseReportPath). Customers get the same
// limit so that one rule serves both.
const MaxBytes = 251

// Error is a name that Check refused. Its message is written for whoever
// chose the name, a customer reading an upload log or staff at a form: it
// says what is wrong and what to do.
type Error struct {
	Kind   Kind
	Name   string // the name as given
	Reason string // e.g. "contains U+2215 DIVISION SLASH (∕), which looks like /; ..."
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s %s %s", e.Kind, quote(e.Name), e.Reason)
}

// quote quotes a name for a message, cut after 60 bytes.
func quote(s string) string {
	if len(s) > 60 {
		cut := 60
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return fmt.Sprintf("%q...", s[:cut])
	}
	return fmt.Sprintf("%q", s)
}

// Normalize returns name in Unicode Normalization Form C, the form names
// are stored and compared in: "u" followed by a combining diaeresis
// becomes "ü". Invalid UTF-8 is returned as it is, for Check to refuse.
func Normalize(name string) string {
	if !utf8.ValidString(name) {
		return name
	}
	return norm.NFC.String(name)
}

// Equal reports whether a and b are the same name, as lookups see it:
// equal ignoring ASCII case (as the database's lower() compares; "BÜRO"
// and "Büro" are different names there too), as given or once both are
// in NFC.
func Equal(a, b string) bool {
	return asciiEqualFold(a, b) || asciiEqualFold(Normalize(a), Normalize(b))
}

func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// Check returns nil when name may be given to a new customer or server,
// and otherwise an *Error saying why not. The rule, in the order checked:
//
//   - not empty, valid UTF-8, at most MaxBytes bytes, not "." or "..";
//   - in NFC (pass the name through Normalize first);
//   - no space at the start or the end;
//   - no "/" or "\", and no character that looks like one: the entries for
//     "/" and "\" in Unicode's confusables (UTS #39), such as U+2215
//     DIVISION SLASH, U+2044 FRACTION SLASH and U+29F5 REVERSE SOLIDUS
//     OPERATOR, the combining solidus overlays, and every character whose
//     decomposition holds one of them (such as "≠");
//   - no compatibility character, one that NFKC turns into another: the
//     fullwidth U+FF0F "／" and U+FF3C "＼", "½", "ﬁ", "²", mathematical
//     letters such as "𝐚" (write the plain character instead);
//   - no control character (Cc), no invisible character (format
//     characters, Cf, such as zero-width spaces, joiners and bidi
//     overrides, and the other default-ignorable ones), no space other than
//     U+0020, no private-use or unassigned code point, no U+FFFD;
//   - letters of one script, counting digits, punctuation and combining
//     marks as belonging to none (Common and Inherited): "Müller",
//     "Сервер-01" and "東京-fs01" pass, "аcme" with a Cyrillic "а" does
//     not. As in UTS #39's "highly restrictive" level, Latin may go with
//     Han and Japanese kana, with Han and Bopomofo, or with Han and Hangul.
//
// Letters that only look like a slash in some fonts are allowed, because
// they are letters of living scripts: Katakana ノ, the ideographs 丿 and 丶,
// Coptic Ⳇ. A name written wholly in another script that looks like a
// Latin one (Cyrillic "асе") is not caught; neither is a name that differs
// from another only in look-alike letters of one script ("rn" and "m").
func Check(kind Kind, name string) error {
	refuse := func(format string, args ...any) error {
		return &Error{Kind: kind, Name: name, Reason: fmt.Sprintf(format, args...)}
	}
	switch {
	case name == "":
		return refuse("is empty; give a name")
	case !utf8.ValidString(name):
		return refuse("is not valid UTF-8 text; type the name again")
	case len(name) > MaxBytes:
		return refuse("is %d bytes long, over the limit of %d; choose a shorter name", len(name), MaxBytes)
	case name == "." || name == "..":
		return refuse("is not a name; choose another")
	case !norm.NFC.IsNormalString(name):
		return refuse("has accents written as separate characters (it is not in Unicode form NFC); type the name again")
	case strings.HasPrefix(name, " ") || strings.HasSuffix(name, " "):
		return refuse("begins or ends with a space; remove it")
	}
	first, firstRune := "", rune(0)
	var seen []string
	for i, r := range name {
		if reason := checkRune(r, name[i:i+utf8.RuneLen(r)]); reason != "" {
			return refuse("%s", reason)
		}
		sc := scriptOf(r)
		if sc == "" || slices.Contains(seen, sc) {
			continue
		}
		seen = append(seen, sc)
		if first == "" {
			first, firstRune = sc, r
			continue
		}
		if !allowedMix(seen) {
			return refuse("mixes %s and %s letters (%q is %s, %q is %s), so it can pass for another name; write it in one alphabet",
				first, sc, firstRune, first, r, sc)
		}
	}
	return nil
}

// checkRune returns why r, written enc in UTF-8, may not be in a new
// name, or "".
func checkRune(r rune, enc string) string {
	if r < utf8.RuneSelf {
		switch {
		case r == '/' || r == '\\':
			return fmt.Sprintf("contains %q, which separates folders in upload paths; use - or _ instead", r)
		case r < 0x20 || r == 0x7f:
			return fmt.Sprintf("contains the control character %U; remove it", r)
		}
		return ""
	}
	if like, ok := separatorLike[r]; ok {
		return fmt.Sprintf("contains %s, which looks like %s; use - or _ instead", describe(r), like)
	}
	if !norm.NFKD.IsNormalString(enc) {
		for _, d := range norm.NFKD.String(enc) {
			if like := separatorOf(d); like != "" {
				return fmt.Sprintf("contains %s, which looks like %s; use - or _ instead", describe(r), like)
			}
		}
	}
	switch {
	case unicode.IsControl(r):
		return fmt.Sprintf("contains the control character %U; remove it", r)
	case unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r) || unicode.Is(unicode.Variation_Selector, r):
		return fmt.Sprintf("contains the invisible character %s; type the name again without it", describe(r))
	case unicode.In(r, unicode.Zs, unicode.Zl, unicode.Zp):
		return fmt.Sprintf("contains the special space %s; use an ordinary space", describe(r))
	case r == utf8.RuneError:
		return "contains U+FFFD, which stands for text that was garbled on the way; type the name again"
	case unicode.Is(unicode.Co, r):
		return fmt.Sprintf("contains the private-use character %U, which shows differently on every computer; remove it", r)
	case !unicode.IsGraphic(r):
		return fmt.Sprintf("contains %U, which is not an assigned Unicode character; remove it", r)
	}
	if !norm.NFKC.IsNormalString(enc) {
		plain := norm.NFKC.String(enc)
		return fmt.Sprintf("contains %s, a variant of %q; write %q instead", describe(r), plain, plain)
	}
	return ""
}

// separatorOf returns "/" or "\" when r is one or looks like one, or "".
func separatorOf(r rune) string {
	switch r {
	case '/':
		return `"/"`
	case '\\':
		return `"\"`
	}
	return separatorLike[r]
}

// separatorLike holds the characters that look like "/" or "\": the
// entries for U+002F and U+005C in Unicode's confusables.txt (UTS #39),
// without the letters of living scripts (ノ U+30CE, 丿 U+4E3F, 丶 U+4E36,
// Ⳇ U+2CC6), with U+2572 (the mirror of U+2571) and the combining solidus
// overlays. Characters whose compatibility form is "/" or "\" (U+FF0F
// FULLWIDTH SOLIDUS, U+FF3C, U+FE68) are listed too, so that the message
// names the slash rather than calling them variants.
var separatorLike = map[rune]string{
	0x1735: `"/"`, 0x2041: `"/"`, 0x2044: `"/"`, 0x2215: `"/"`, 0x2571: `"/"`, 0x27CB: `"/"`,
	0x29F8: `"/"`, 0x3033: `"/"`, 0x31D3: `"/"`, 0x2F03: `"/"`, 0x1D23A: `"/"`, 0xFF0F: `"/"`,
	0x0337: `"/"`, 0x0338: `"/"`,
	0x2216: `"\"`, 0x2572: `"\"`, 0x27CD: `"\"`, 0x29F5: `"\"`, 0x29F9: `"\"`, 0x31D4: `"\"`,
	0x2F02: `"\"`, 0x1D20F: `"\"`, 0x1D23B: `"\"`, 0xFE68: `"\"`, 0xFF3C: `"\"`, 0x20E5: `"\"`,
}

// runeNames names the characters that messages most often mention; the
// standard library has no table of Unicode names.
var runeNames = map[rune]string{
	0x00A0: "NO-BREAK SPACE", 0x00AD: "SOFT HYPHEN", 0x034F: "COMBINING GRAPHEME JOINER",
	0x061C: "ARABIC LETTER MARK", 0x180E: "MONGOLIAN VOWEL SEPARATOR",
	0x200B: "ZERO WIDTH SPACE", 0x200C: "ZERO WIDTH NON-JOINER", 0x200D: "ZERO WIDTH JOINER",
	0x200E: "LEFT-TO-RIGHT MARK", 0x200F: "RIGHT-TO-LEFT MARK",
	0x202A: "LEFT-TO-RIGHT EMBEDDING", 0x202B: "RIGHT-TO-LEFT EMBEDDING", 0x202C: "POP DIRECTIONAL FORMATTING",
	0x202D: "LEFT-TO-RIGHT OVERRIDE", 0x202E: "RIGHT-TO-LEFT OVERRIDE", 0x2060: "WORD JOINER",
	0x2066: "LEFT-TO-RIGHT ISOLATE", 0x2067: "RIGHT-TO-LEFT ISOLATE", 0x2068: "FIRST STRONG ISOLATE",
	0x2069: "POP DIRECTIONAL ISOLATE", 0x3000: "IDEOGRAPHIC SPACE", 0x3164: "HANGUL FILLER",
	0xFEFF: "ZERO WIDTH NO-BREAK SPACE",
	0x1735: "PHILIPPINE SINGLE PUNCTUATION", 0x2041: "CARET INSERTION POINT", 0x2044: "FRACTION SLASH",
	0x2215: "DIVISION SLASH", 0x2571: "BOX DRAWINGS LIGHT DIAGONAL UPPER RIGHT TO LOWER LEFT",
	0x27CB: "MATHEMATICAL RISING DIAGONAL", 0x29F8: "BIG SOLIDUS", 0x3033: "VERTICAL KANA REPEAT MARK UPPER HALF",
	0x31D3: "CJK STROKE SP", 0x2F03: "KANGXI RADICAL SLASH", 0x1D23A: "GREEK INSTRUMENTAL NOTATION SYMBOL-47",
	0xFF0F: "FULLWIDTH SOLIDUS", 0x0337: "COMBINING SHORT SOLIDUS OVERLAY", 0x0338: "COMBINING LONG SOLIDUS OVERLAY",
	0x2216: "SET MINUS", 0x2572: "BOX DRAWINGS LIGHT DIAGONAL UPPER LEFT TO LOWER RIGHT",
	0x27CD: "MATHEMATICAL FALLING DIAGONAL", 0x29F5: "REVERSE SOLIDUS OPERATOR", 0x29F9: "BIG REVERSE SOLIDUS",
	0x31D4: "CJK STROKE D", 0x2F02: "KANGXI RADICAL DOT", 0x1D20F: "GREEK VOCAL NOTATION SYMBOL-16",
	0x1D23B: "GREEK INSTRUMENTAL NOTATION SYMBOL-48", 0xFE68: "SMALL REVERSE SOLIDUS",
	0xFF3C: "FULLWIDTH REVERSE SOLIDUS", 0x20E5: "COMBINING REVERSE SOLIDUS OVERLAY",
}

// describe writes r as "U+2215 DIVISION SLASH (∕)", with as much of that
// as is known and visible.
func describe(r rune) string {
	s := fmt.Sprintf("%U", r)
	if n, ok := runeNames[r]; ok {
		s += " " + n
	}
	if unicode.IsGraphic(r) && !unicode.In(r, unicode.Mn, unicode.Me, unicode.Zs) {
		s += " (" + string(r) + ")"
	}
	return s
}

// scriptOf returns the script of r, or "" for the characters that belong
// to none (Common: digits, punctuation, symbols; Inherited: combining
// marks) and for unassigned code points.
func scriptOf(r rune) string {
	if r < utf8.RuneSelf {
		if 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' {
			return "Latin"
		}
		return ""
	}
	if unicode.Is(unicode.Latin, r) {
		return "Latin"
	}
	if unicode.In(r, unicode.Common, unicode.Inherited) {
		return ""
	}
	for _, name := range scriptNames() {
		if unicode.Is(unicode.Scripts[name], r) {
			return name
		}
	}
	return ""
}

// scriptNames lists unicode.Scripts in a fixed order for scriptOf: the
// scripts names are most often written in first, then the others. Built on
// first use, not at start: every command would pay for it (about 4 ms).
var scriptNames = sync.OnceValue(func() []string {
	out := []string{"Cyrillic", "Greek", "Han", "Hiragana", "Katakana", "Hangul", "Arabic", "Hebrew", "Thai", "Devanagari", "Armenian", "Georgian", "Bopomofo"}
	var rest []string
	for name := range unicode.Scripts {
		if name != "Common" && name != "Inherited" && name != "Latin" && !slices.Contains(out, name) {
			rest = append(rest, name)
		}
	}
	slices.Sort(rest)
	return append(out, rest...)
})

// allowedMix reports whether a name may hold letters of all the scripts
// in seen: one script, or a subset of one of UTS #39's "highly
// restrictive" combinations.
func allowedMix(seen []string) bool {
	if len(seen) <= 1 {
		return true
	}
	for _, set := range [][]string{
		{"Latin", "Han", "Hiragana", "Katakana"}, // Japanese
		{"Latin", "Han", "Bopomofo"},             // Chinese
		{"Latin", "Han", "Hangul"},               // Korean
	} {
		all := true
		for _, s := range seen {
			all = all && slices.Contains(set, s)
		}
		if all {
			return true
		}
	}
	return false
}
