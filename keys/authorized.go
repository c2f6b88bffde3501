package keys

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"

	"golang.org/x/crypto/ssh"
)

// AuthorizedEntry is one key of the old server's authorized_keys file, with
// the customer its forced command wrote for.
type AuthorizedEntry struct {
	Line int // 1-based line number in the file
	Key  ssh.PublicKey
	Info Info // Comment is the line's comment
	// Customer is the customer named by the line's command option.
	Customer string
	// Server is the server named by the command option, or "" when the
	// command's file name is built by the shell at run time (for example
	// from $SSH_ORIGINAL_COMMAND), which makes the key the customer's.
	Server string
	// Command is the forced command, as OpenSSH ran it (the option's
	// value without its quotes, \" unescaped), when it names one report
	// file (Server is set): such a key uploads with it whatever the client
	// asks for. "" when the file name is built at run time: the client's
	// command names the file then, and is parsed as any key's.
	Command string
}

// Problem is a line of an authorized_keys file that was not imported.
type Problem struct {
	Line   int
	Reason string
}

// maxAuthorizedLine bounds a line of authorized_keys; OpenSSH's own limit is
// lower. Longer lines are reported as problems.
const maxAuthorizedLine = 64 << 10

// ParseAuthorizedKeys reads an OpenSSH authorized_keys file, as the old
// report server had it, for migration. Each key line must carry a forced
// command of the form command="cat > /reports/<customer>/<server>.out"
// (">>" and a quoted file are accepted), which names its customer. Lines
// without such a command, and lines that do not parse, are returned as
// problems rather than guessed; blank lines and # comments are skipped.
//
// err is non-nil only when reading r fails. DSA keys parse as long as
// golang.org/x/crypto is pinned at v0.58.0. Other options (from=, no-pty)
// are ignored, and duplicate keys are not detected.
func ParseAuthorizedKeys(r io.Reader) (entries []AuthorizedEntry, problems []Problem, err error) {
	br := bufio.NewReader(r)
	for n := 1; ; n++ {
		line, tooLong, err := readLine(br, maxAuthorizedLine)
		if tooLong {
			problems = append(problems, Problem{n, fmt.Sprintf("line longer than %d bytes", maxAuthorizedLine)})
		} else if e, reason := parseAuthorizedLine(n, line); reason != "" {
			problems = append(problems, Problem{n, reason})
		} else if e != nil {
			entries = append(entries, *e)
		}
		if err == io.EOF {
			return entries, problems, nil
		}
		if err != nil {
			return entries, problems, fmt.Errorf("read authorized_keys line %d: %w", n, err)
		}
	}
}

// readLine reads one line without its LF. If the line is longer than max,
// it is consumed and tooLong is set. err is io.EOF after the last line.
func readLine(br *bufio.Reader, max int) (line string, tooLong bool, err error) {
	var b []byte
	for {
		chunk, isPrefix, err := br.ReadLine()
		if len(b)+len(chunk) > max {
			tooLong = true
		} else {
			b = append(b, chunk...)
		}
		if err != nil || !isPrefix {
			if tooLong {
				b = nil
			}
			return string(b), tooLong, err
		}
	}
}

// parseAuthorizedLine returns the entry of one line, nil for a blank or
// comment line, or the reason the line is a problem.
func parseAuthorizedLine(n int, line string) (*AuthorizedEntry, string) {
	line = strings.TrimSpace(line)
	if line == "" || strings.HasPrefix(line, "#") {
		return nil, ""
	}
	pk, comment, options, _, err := ssh.ParseAuthorizedKey([]byte(line))
	if err != nil {
		return nil, "not a key line: " + strings.TrimPrefix(err.Error(), "ssh: ")
	}
	var commands []string
	for _, o := range options {
		name, value, _ := strings.Cut(o, "=")
		if strings.EqualFold(name, "command") {
			commands = append(commands, value)
		}
	}
	if len(commands) != 1 {
		return nil, fmt.Sprintf("%d command options; want one command=\"cat > /reports/<customer>/<server>.out\"", len(commands))
	}
	customer, server, cmd, err := commandCustomer(commands[0])
	if err != nil {
		return nil, err.Error()
	}
	info := Describe(pk)
	info.Comment = comment
	e := &AuthorizedEntry{Line: n, Key: pk, Info: info, Customer: customer, Server: server}
	if server != "" {
		e.Command = cmd
	}
	return e, ""
}

// commandCustomer returns the customer and server that a quoted command
// option's value, such as "cat > /reports/acme/exch01.out", writes for, and
// the command unquoted.
func commandCustomer(quoted string) (customer, server, cmd string, err error) {
	if len(quoted) < 2 || quoted[0] != '"' || quoted[len(quoted)-1] != '"' {
		return "", "", "", errors.New("command option is not quoted")
	}
	// OpenSSH unescapes \" and nothing else inside an option.
	cmd = strings.ReplaceAll(quoted[1:len(quoted)-1], `\"`, `"`)
	target, expands, ok := catTarget(cmd)
	if !ok {
		return "", "", "", fmt.Errorf("command %q is not cat > /reports/<customer>/<server>.out", cmd)
	}
	if !expands {
		customer, server, err = ParseReportPath(target)
		return customer, server, cmd, err
	}
	// The file name comes from the shell at run time; only a literal
	// customer folder is accepted.
	parts := strings.SplitN(strings.TrimPrefix(target, "/"), "/", 3)
	if len(parts) != 3 || parts[2] == "" || strings.ContainsAny(parts[0]+parts[1], "$`") {
		return "", "", "", fmt.Errorf("command %q does not name its customer literally", cmd)
	}
	customer, _, err = ParseReportPath("/" + parts[0] + "/" + parts[1] + "/x.out")
	return customer, "", cmd, err
}

// catTarget returns the file written by a shell command of the form
// `cat [-] >|>> FILE`, where FILE is a bare word or wholly quoted with ' or ".
// expands reports whether the shell would expand $ or ` in FILE. This is a
// small sibling of server.ParseCommand, for forced commands written by the
// old server's admins.
func catTarget(cmd string) (target string, expands, ok bool) {
	const blanks = " \t"
	s := strings.TrimLeft(cmd, blanks)
	s, ok = strings.CutPrefix(s, "cat")
	if !ok || s == "" || !strings.ContainsRune(blanks+">", rune(s[0])) {
		return "", false, false
	}
	s = strings.TrimLeft(s, blanks)
	if rest, ok := strings.CutPrefix(s, "-"); ok {
		s = strings.TrimLeft(rest, blanks)
	}
	if rest, ok := strings.CutPrefix(s, ">>"); ok {
		s = rest
	} else if rest, ok := strings.CutPrefix(s, ">"); ok {
		s = rest
	} else {
		return "", false, false
	}
	s = strings.TrimRight(strings.TrimLeft(s, blanks), blanks)
	if s == "" {
		return "", false, false
	}
	if q := s[0]; q == '\'' || q == '"' {
		if len(s) < 3 || s[len(s)-1] != q || strings.IndexByte(s[1:len(s)-1], q) >= 0 {
			return "", false, false
		}
		target = s[1 : len(s)-1]
		return target, q == '"' && strings.ContainsAny(target, "$`"), !strings.ContainsRune(target, '\\')
	}
	if strings.ContainsAny(s, " \t|&;<>()'\"\\*?[]{}~#") {
		return "", false, false
	}
	return s, strings.ContainsAny(s, "$`"), true
}
