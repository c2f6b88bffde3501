package parser

import (
	"io"
	"unicode/utf16"
	"unicode/utf8"
)

// utf16Reader decodes a UTF-16LE stream into UTF-8 as it is read, with
// bounded buffers. Unpaired surrogates and a dangling odd byte at the end
// become U+FFFD.
type utf16Reader struct {
	r       io.Reader
	in      []byte // raw bytes read but not yet decoded: in[:nin]
	nin     int
	out     []byte // decoded bytes not yet returned: out[outPos:]
	outPos  int
	pending rune // a high surrogate waiting for its pair, or 0
	err     error
}

func newUTF16Reader(r io.Reader) *utf16Reader {
	return &utf16Reader{r: r, in: make([]byte, 32<<10), out: make([]byte, 0, 48<<10+8)}
}

func (u *utf16Reader) Read(p []byte) (int, error) {
	for u.outPos == len(u.out) {
		if u.err != nil {
			return 0, u.err
		}
		u.out, u.outPos = u.out[:0], 0
		n, err := u.r.Read(u.in[u.nin:])
		u.nin += n
		u.decode(err != nil)
		u.err = err
	}
	n := copy(p, u.out[u.outPos:])
	u.outPos += n
	return n, nil
}

// decode converts the complete code units in in[:nin] to UTF-8 in out. At
// the end of the input it also flushes a lone surrogate or odd byte.
func (u *utf16Reader) decode(final bool) {
	i := 0
	for ; i+1 < u.nin; i += 2 {
		c := rune(u.in[i]) | rune(u.in[i+1])<<8
		switch {
		case u.pending != 0:
			r := utf16.DecodeRune(u.pending, c)
			u.pending = 0
			if r != utf8.RuneError {
				u.out = utf8.AppendRune(u.out, r)
				continue
			}
			u.out = utf8.AppendRune(u.out, utf8.RuneError)
			if utf16.IsSurrogate(c) && c < 0xdc00 {
				u.pending = c
				continue
			}
			u.out = utf8.AppendRune(u.out, toRune(c))
		case utf16.IsSurrogate(c) && c < 0xdc00:
			u.pending = c
		default:
			u.out = utf8.AppendRune(u.out, toRune(c))
		}
	}
	u.nin = copy(u.in, u.in[i:u.nin])
	if final {
		if u.pending != 0 {
			u.out = utf8.AppendRune(u.out, utf8.RuneError)
			u.pending = 0
		}
		if u.nin > 0 {
			u.out = utf8.AppendRune(u.out, utf8.RuneError)
			u.nin = 0
		}
	}
}

// toRune maps a lone low surrogate to U+FFFD and leaves other units alone.
func toRune(c rune) rune {
	if utf16.IsSurrogate(c) {
		return utf8.RuneError
	}
	return c
}
