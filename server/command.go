package server

import (
	"errors"
	"fmt"
	"strings"
)

// Command is what an accepted exec request asks for: write the session's
// input to Path.
type Command struct {
	// Path is the file named after > or >>, with quotes removed and not
	// otherwise checked: validate it with keys.ParseReportPath.
	Path string
	// Append is true for >>. The old server appended; whether backupreport
	// treats it differently from > is the caller's choice.
	Append bool
}

// maxCommand bounds the command string; backup.bat's is under 600 bytes.
const maxCommand = 4096

// ParseCommand parses the command string of an exec request, as customers'
// backup.bat sends it: `cat > /reports/<customer>/<server>.out`. It reads it
// the way a POSIX shell would, within a small grammar:
//
//	cat [-] (> | >>) FILE
//
// Blanks (spaces and tabs) may be added or left out around "-", ">" and
// ">>", FILE may be quoted in whole or in part with '...' or "...", and
// trailing whitespace of any mix (blanks, CR, LF: plink -m sends the command
// file's line ends, a blank line included) is ignored. Everything else is refused with an
// error fit to show the client: other programs (including scp, which is
// handled elsewhere), arguments, pipes, ;, &, &&, input redirection, a second
// redirection, variables, command substitution, globs, backslashes, control
// characters and a missing file. The error is one short line such as "pipes
// are not supported"; callers add that the command was refused and the form
// that is accepted (cat > /reports/<customer>/<server>.out).
func ParseCommand(raw string) (Command, error) {
	if len(raw) > maxCommand {
		return Command{}, fmt.Errorf("%d bytes is too long", len(raw))
	}
	toks, err := tokenize(trimCommand(raw))
	if err != nil {
		return Command{}, err
	}
	if len(toks) == 0 {
		return Command{}, errors.New("empty command")
	}
	if toks[0].op {
		return Command{}, errors.New("no program before the redirection")
	}
	if toks[0].text != "cat" {
		return Command{}, fmt.Errorf("program %s is not supported", quoteShort(toks[0].text))
	}
	var (
		c        Command
		redirect bool
	)
	for i := 1; i < len(toks); i++ {
		t := toks[i]
		switch {
		case t.op && redirect:
			return Command{}, errors.New("more than one redirection")
		case t.op:
			if i+1 >= len(toks) || toks[i+1].op {
				return Command{}, fmt.Errorf("missing file after %s", t.text)
			}
			redirect = true
			c.Append = t.text == ">>"
			c.Path = toks[i+1].text
			i++
			if c.Path == "" {
				return Command{}, fmt.Errorf("empty file name after %s", t.text)
			}
		case t.text == "-" && !redirect && i == 1:
			// cat - reads standard input, as cat does anyway.
		default:
			return Command{}, fmt.Errorf("unexpected argument %s", quoteShort(t.text))
		}
	}
	if !redirect {
		return Command{}, errors.New("missing > FILE")
	}
	return c, nil
}

// trimCommand drops the whitespace after a command: blanks, tabs, CR and LF
// in any mix. Inside the command they are still refused (CR, LF) or split
// words (blanks).
func trimCommand(raw string) string { return strings.TrimRight(raw, " \t\r\n") }

// token is a word or a redirection operator.
type token struct {
	text string
	op   bool // > or >>
}

// tokenize splits s into words and > / >> operators like a POSIX shell,
// refusing anything beyond that.
func tokenize(s string) ([]token, error) {
	var (
		toks   []token
		word   strings.Builder
		inWord bool // a word has started, possibly as "" (empty quotes)
	)
	endWord := func() {
		if inWord {
			toks = append(toks, token{text: word.String()})
			word.Reset()
			inWord = false
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			endWord()
		case c == '>':
			endWord()
			switch {
			case strings.HasPrefix(s[i:], ">>"):
				toks = append(toks, token{text: ">>", op: true})
				i++
			case strings.HasPrefix(s[i:], ">&"), strings.HasPrefix(s[i:], ">|"):
				return nil, fmt.Errorf("%s is not supported", s[i:i+2])
			default:
				toks = append(toks, token{text: ">", op: true})
			}
		case c == '\'' || c == '"':
			end := strings.IndexByte(s[i+1:], c)
			if end < 0 {
				return nil, errors.New("unterminated quote")
			}
			quoted := s[i+1 : i+1+end]
			if c == '"' && strings.ContainsAny(quoted, "$`\\") {
				return nil, errors.New(`$, backquote and backslash are not supported inside "..."`)
			}
			if err := checkChars(quoted); err != nil {
				return nil, err
			}
			word.WriteString(quoted)
			inWord = true
			i += end + 1
		default:
			if err := checkBare(c); err != nil {
				return nil, err
			}
			word.WriteByte(c)
			inWord = true
		}
	}
	endWord()
	return toks, nil
}

// checkBare refuses an unquoted byte that means more than itself to a shell.
func checkBare(c byte) error {
	switch c {
	case '|':
		return errors.New("pipes are not supported")
	case ';', '&':
		return errors.New("; and & are not supported")
	case '<':
		return errors.New("input redirection is not supported")
	case '$', '`':
		return errors.New("variables and command substitution are not supported")
	case '\\':
		return errors.New("backslashes are not supported")
	case '(', ')', '{', '}':
		return errors.New("( ) { } are not supported")
	case '*', '?', '[', ']', '~', '#':
		return fmt.Errorf("unquoted %c is not supported", c)
	}
	return checkChars(string(c))
}

// checkChars refuses NUL and other control characters, which no file name
// backup.bat writes holds; tab is a blank and handled before.
func checkChars(s string) error {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == 0:
			return errors.New("NUL byte")
		case c < 0x20 || c == 0x7f:
			return fmt.Errorf("control character %#02x", c)
		}
	}
	return nil
}

// quoteShort quotes s for an error message, cut to a readable length.
func quoteShort(s string) string {
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	return fmt.Sprintf("%q", s)
}
