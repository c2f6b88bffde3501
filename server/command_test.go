package server

import (
	"strings"
	"testing"
)

func TestParseCommandAcceptsWhatBackupBatSends(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		want Command
	}{
		{"the command as backup.bat sends it", "cat > /reports/c/s.out", Command{Path: "/reports/c/s.out"}},
		{"no blank after >", "cat >/reports/c/s.out", Command{Path: "/reports/c/s.out"}},
		{"no blanks at all", "cat>/reports/c/s.out", Command{Path: "/reports/c/s.out"}},
		{"cat - for standard input", "cat - > reports/c/s.out", Command{Path: "reports/c/s.out"}},
		{"cat - with no blanks", "cat ->reports/c/s.out", Command{Path: "reports/c/s.out"}},
		{"append", "cat >> /reports/c/s.out", Command{Path: "/reports/c/s.out", Append: true}},
		{"append with no blanks", "cat>>/reports/c/s.out", Command{Path: "/reports/c/s.out", Append: true}},
		{"a double-quoted path with spaces", `cat > "/reports/acme corp/file srv.out"`, Command{Path: "/reports/acme corp/file srv.out"}},
		{"a single-quoted path with spaces", `cat > '/reports/acme corp/file srv.out'`, Command{Path: "/reports/acme corp/file srv.out"}},
		{"a partly quoted path", `cat > /reports/"acme corp"/'file srv'.out`, Command{Path: "/reports/acme corp/file srv.out"}},
		{"a single-quoted $", `cat > '/reports/a/$x.out'`, Command{Path: "/reports/a/$x.out"}},
		{"extra spaces and tabs", " \t cat  \t -\t >>   /reports/c/s.out \t ", Command{Path: "/reports/c/s.out", Append: true}},
		{"a trailing CR", "cat > /reports/c/s.out\r", Command{Path: "/reports/c/s.out"}},
		{"a trailing CR LF", "cat > /reports/c/s.out\r\n", Command{Path: "/reports/c/s.out"}},
		{"a trailing LF", "cat > /reports/c/s.out\n", Command{Path: "/reports/c/s.out"}},
		{"two trailing CRs", "cat > /reports/c/s.out\r\r", Command{Path: "/reports/c/s.out"}},
		{"a plink -m file ending in a blank line", "cat > /reports/c/s.out\r\n\r\n", Command{Path: "/reports/c/s.out"}},
		{"trailing whitespace of every kind mixed", "cat > /reports/c/s.out \t\r\n \n\t\r", Command{Path: "/reports/c/s.out"}},
		{"a quoted path before a trailing CR", "cat > \"/reports/a b/c.out\"\r", Command{Path: "/reports/a b/c.out"}},
		{"a quoted cat", `"cat" > /reports/c/s.out`, Command{Path: "/reports/c/s.out"}},
		{"UTF-8 names", "cat > /reports/Müller/Server-ä.out", Command{Path: "/reports/Müller/Server-ä.out"}},
		{"a path the caller will refuse", "cat > /etc/passwd", Command{Path: "/etc/passwd"}},
	}
	for _, tt := range tests {
		t.Run("accepts "+tt.name, func(t *testing.T) {
			got, err := ParseCommand(tt.raw)
			if err != nil {
				t.Fatalf("ParseCommand(%q): %v", tt.raw, err)
			}
			if got != tt.want {
				t.Errorf("ParseCommand(%q) = %+v, want %+v", tt.raw, got, tt.want)
			}
		})
	}
}

func TestParseCommandRefusesEverythingElse(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		want string // substring of the error
	}{
		{"an empty command", "", "empty command"},
		{"only blanks", " \t\r\n", "empty command"},
		{"a shell", "sh", "program \"sh\" is not supported"},
		{"bash -c", "bash -c 'cat > /reports/c/s.out'", "program \"bash\""},
		{"scp", "scp -t /reports/c/s.out", "program \"scp\""},
		{"another program", "tee /reports/c/s.out", "program \"tee\""},
		{"cat by path", "/bin/cat > /reports/c/s.out", "program \"/bin/cat\""},
		{"cat glued to a word", "catx > /reports/c/s.out", "program \"catx\""},
		{"cat with a file argument", "cat /etc/passwd > /reports/c/s.out", "unexpected argument \"/etc/passwd\""},
		{"cat with an option", "cat -n > /reports/c/s.out", "unexpected argument \"-n\""},
		{"an argument after the path", "cat > /reports/c/s.out extra", "unexpected argument \"extra\""},
		{"a dash after the path", "cat > /reports/c/s.out -", "unexpected argument \"-\""},
		{"two dashes", "cat - - > /reports/c/s.out", "unexpected argument \"-\""},
		{"a file descriptor redirection", "cat 2> /reports/c/s.out", "unexpected argument \"2\""},
		{"a redirection first", "> /reports/c/s.out cat", "no program before the redirection"},
		{"no redirection", "cat", "missing > FILE"},
		{"cat -", "cat -", "missing > FILE"},
		{"a missing path", "cat >", "missing file after >"},
		{"a missing path after >>", "cat >> \t", "missing file after >>"},
		{"an empty quoted path", `cat > ""`, "empty file name after >"},
		{"two redirections", "cat > /reports/c/s.out > /reports/c/t.out", "more than one redirection"},
		{"> >", "cat > > /reports/c/s.out", "missing file after >"},
		{">>>", "cat >>> /reports/c/s.out", "missing file after >>"},
		{">|", "cat >| /reports/c/s.out", ">| is not supported"},
		{">&", "cat >& /reports/c/s.out", ">& is not supported"},
		{"input redirection", "cat < /etc/passwd > /reports/c/s.out", "input redirection is not supported"},
		{"a here-document", "cat << EOF > /reports/c/s.out", "input redirection is not supported"},
		{"a pipe", "cat | tee /reports/c/s.out", "pipes are not supported"},
		{"a pipe after the redirection", "cat > /reports/c/s.out | sh", "pipes are not supported"},
		{"a semicolon", "cat > /reports/c/s.out; rm -rf /", "; and & are not supported"},
		{"&&", "cat > /reports/c/s.out && sh", "; and & are not supported"},
		{"a background job", "cat > /reports/c/s.out &", "; and & are not supported"},
		{"backticks", "cat > /reports/c/`id`.out", "variables and command substitution are not supported"},
		{"$( )", "cat > /reports/c/$(id).out", "variables and command substitution are not supported"},
		{"a variable", "cat > /reports/$USER/s.out", "variables and command substitution are not supported"},
		{"a variable in double quotes", `cat > "/reports/$USER/s.out"`, `$, backquote and backslash are not supported inside "..."`},
		{"backticks in double quotes", "cat > \"/reports/`id`/s.out\"", `not supported inside "..."`},
		{"a backslash", `cat > /reports/c/s\ t.out`, "backslashes are not supported"},
		{"a backslash in double quotes", `cat > "/reports/c/s\".out"`, `not supported inside "..."`},
		{"a subshell", "(cat > /reports/c/s.out)", "( ) { } are not supported"},
		{"braces", "cat > /reports/{a,b}/s.out", "( ) { } are not supported"},
		{"a glob", "cat > /reports/c/*.out", "unquoted * is not supported"},
		{"a question mark", "cat > /reports/c/s?.out", "unquoted ? is not supported"},
		{"a tilde", "cat > ~/s.out", "unquoted ~ is not supported"},
		{"a comment", "cat > /reports/c/s.out # note", "unquoted # is not supported"},
		{"an unterminated double quote", `cat > "/reports/c/s.out`, "unterminated quote"},
		{"an unterminated single quote", `cat > '/reports/c/s.out`, "unterminated quote"},
		{"a NUL byte", "cat > /reports/c/s\x00.out", "NUL byte"},
		{"a quoted NUL byte", "cat > '/reports/c/s\x00.out'", "NUL byte"},
		{"a newline and a second command", "cat > /reports/c/s.out\nsh", "control character 0x0a"},
		{"a CR inside", "cat > /reports/c/s\r.out", "control character 0x0d"},
		{"an escape character", "cat > /reports/c/\x1b[2Js.out", "control character 0x1b"},
		{"a quoted tab", "cat > '/reports/c/s\t.out'", "control character 0x09"},
		{"a huge command", "cat > /reports/c/" + strings.Repeat("s", maxCommand) + ".out", "too long"},
	}
	for _, tt := range tests {
		t.Run("refuses "+tt.name, func(t *testing.T) {
			got, err := ParseCommand(tt.raw)
			if err == nil {
				t.Fatalf("ParseCommand(%q) = %+v, want an error", tt.raw, got)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParseCommand(%q): error %q does not contain %q", tt.raw, err, tt.want)
			}
			if got != (Command{}) {
				t.Errorf("ParseCommand(%q) returned %+v with its error", tt.raw, got)
			}
		})
	}
}

func TestParseCommandErrorsAreOneShortLine(t *testing.T) {
	_, err := ParseCommand(strings.Repeat("x", 3000) + " > /reports/c/s.out")
	if err == nil || len(err.Error()) > 200 || strings.ContainsAny(err.Error(), "\r\n") {
		t.Errorf("got %q", err)
	}
}

func TestSCPSinkTargetUnquotesLikeAShell(t *testing.T) {
	tests := []struct {
		name, raw, want string
		sink            bool
	}{
		{"OpenSSH's scp -O", "scp -t /reports/c/s.out", "/reports/c/s.out", true},
		{"OpenSSH's scp -O with flags", "scp -v -p -d -t -- /reports/c/", "/reports/c/", true},
		{"libssh2 (curl scp://) and libssh", "scp -t '/reports/c/s.out'", "/reports/c/s.out", true},
		{"double quotes", `scp -t "/reports/acme corp/s.out"`, "/reports/acme corp/s.out", true},
		{"a partly quoted path", `scp -t /reports/'c'/"s".out`, "/reports/c/s.out", true},
		{"trailing CR LF and blanks", "scp -t '/reports/c/s.out' \r\n\r\n", "/reports/c/s.out", true},
		{"the source side (-f), which is not a sink", "scp -f /reports/c/s.out", "", false},
	}
	for _, tt := range tests {
		t.Run("reads "+tt.name, func(t *testing.T) {
			got, sink := scpSinkTarget(tt.raw)
			if got != tt.want || sink != tt.sink {
				t.Errorf("scpSinkTarget(%q) = %q, %v; want %q, %v", tt.raw, got, sink, tt.want, tt.sink)
			}
		})
	}
	for _, raw := range []string{
		"scp -t '/reports/c/s.out", // unterminated
		"scp -t /reports/c/$(id).out",
		"scp -t /reports/c/s.out; sh",
		"scp -t > /reports/c/s.out",
		"scp -t ''",
		"scp -x -t /reports/c/s.out",
		"scp -t /reports/c/s.out\nsh",
		"cat > /reports/c/s.out",
	} {
		t.Run("refuses "+raw, func(t *testing.T) {
			if got, sink := scpSinkTarget(raw); sink {
				t.Errorf("scpSinkTarget(%q) = %q, a sink; want none", raw, got)
			}
		})
	}
}
