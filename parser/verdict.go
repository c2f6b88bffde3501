package parser

import (
	"unicode"
	"unicode/utf8"
)

// Verdict judges a run from its exit code and its file errors:
//
//   - codes 0 and 24 are ok;
//   - code 23 is ok only when every file error that is not a vanished file
//     is excepted (FileError.Excepted), and there is at least one such
//     error: a 23 whose cause the parser did not recognise stays failed;
//   - every other code, CodeMissing included, is failed.
//
// Vanished files never count against the verdict.
func Verdict(code int, errs []FileError) Status {
	switch code {
	case 0, 24:
		return StatusOK
	case 23:
		seen := false
		for i := range errs {
			if errs[i].Kind == KindVanished {
				continue
			}
			if !errs[i].Excepted {
				return StatusFailed
			}
			seen = true
		}
		if seen {
			return StatusOK
		}
	}
	return StatusFailed
}

// verdict is Verdict, made stricter by the file errors that were dropped
// because FileErrors was full: they cannot be excepted.
func (r *Result) verdict() Status {
	if r.Code == 23 {
		for k, n := range r.Dropped {
			if k != KindVanished && n > 0 {
				return StatusFailed
			}
		}
	}
	return Verdict(r.Code, r.FileErrors)
}

// Match reports whether path matches the exception pattern as a whole,
// ignoring case. In the pattern, '*' matches any run of characters, '/'
// included, and '?' matches exactly one character; every other character,
// backslash included, matches itself. Match does not allocate, and its cost
// is at most proportional to len(pattern)*len(path).
func Match(pattern, path string) bool {
	// Classic glob with one backtracking point: on a mismatch, let the last
	// '*' swallow one more character of path.
	px, nx := 0, 0
	starPx, starNx := -1, 0
	for px < len(pattern) || nx < len(path) {
		if px < len(pattern) {
			switch c := pattern[px]; c {
			case '*':
				starPx, starNx = px, nx
				px++
				continue
			case '?':
				if nx < len(path) {
					_, n := utf8.DecodeRuneInString(path[nx:])
					px++
					nx += n
					continue
				}
			default:
				if nx < len(path) {
					if c < utf8.RuneSelf && path[nx] < utf8.RuneSelf {
						if lowerASCII(c) == lowerASCII(path[nx]) {
							px++
							nx++
							continue
						}
					} else {
						pr, pn := utf8.DecodeRuneInString(pattern[px:])
						sr, sn := utf8.DecodeRuneInString(path[nx:])
						if (pr == utf8.RuneError && pn == 1) || (sr == utf8.RuneError && sn == 1) {
							// Invalid UTF-8 matches only the same byte.
							if pattern[px] == path[nx] {
								px++
								nx++
								continue
							}
						} else if equalFold(pr, sr) {
							px += pn
							nx += sn
							continue
						}
					}
				}
			}
		}
		if starPx >= 0 && starNx < len(path) {
			_, n := utf8.DecodeRuneInString(path[starNx:])
			starNx += n
			px, nx = starPx+1, starNx
			continue
		}
		return false
	}
	return true
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// equalFold reports whether two runes are equal under simple Unicode case
// folding, as strings.EqualFold does.
func equalFold(a, b rune) bool {
	if a == b {
		return true
	}
	for f := unicode.SimpleFold(a); f != a; f = unicode.SimpleFold(f) {
		if f == b {
			return true
		}
	}
	return false
}
