package keys

import (
	"errors"
	"os"
	"strings"
	"testing"
	"testing/iotest"
)

func TestParseAuthorizedKeysMigratesTheOldFile(t *testing.T) {
	f, err := os.Open("testdata/authorized_keys")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	entries, problems, err := ParseAuthorizedKeys(f)
	if err != nil {
		t.Fatal(err)
	}
	fps := readFingerprints(t)

	wantEntries := []struct {
		line             int
		pub              string
		typ              string
		customer, server string
		comment          string
	}{
		{2, "dsa_pem.pub", "ssh-dss", "acme", "exch01", "id_dsa acme exch01"},
		{4, "rsa_openssh.pub", "ssh-rsa", "Globex Corp", "file srv", "globex"},
		{10, "dsa_openssh.pub", "ssh-dss", "initech", "web01", ""},
		{11, "ecdsa384_pem.pub", "ecdsa-sha2-nistp384", "umbrella", "db 1", "escaped quotes, tab"},
	}
	if len(entries) != len(wantEntries) {
		t.Errorf("got %d entries, want %d: %+v", len(entries), len(wantEntries), entries)
	}
	for i, want := range wantEntries {
		if i >= len(entries) {
			break
		}
		got := entries[i]
		if got.Line != want.line || got.Customer != want.customer || got.Server != want.server ||
			got.Info.Type != want.typ || got.Key.Type() != want.typ || got.Info.Comment != want.comment {
			t.Errorf("entry %d: got line %d %s %q/%q comment %q; want line %d %s %q/%q comment %q", i,
				got.Line, got.Info.Type, got.Customer, got.Server, got.Info.Comment,
				want.line, want.typ, want.customer, want.server, want.comment)
		}
		if fp := fps[want.pub].fingerprint; got.Info.Fingerprint != fp {
			t.Errorf("entry %d: fingerprint %s, want %s (%s)", i, got.Info.Fingerprint, fp, want.pub)
		}
	}

	wantProblems := []Problem{
		{5, "0 command options"},
		{6, `command "/usr/local/bin/receive initech" is not cat >`},
		{7, "not in the reports folder"},
		{8, "contains .."},
		{9, "not a key line"},
	}
	if len(problems) != len(wantProblems) {
		t.Errorf("got %d problems, want %d: %+v", len(problems), len(wantProblems), problems)
	}
	for i, want := range wantProblems {
		if i >= len(problems) {
			break
		}
		if got := problems[i]; got.Line != want.Line || !strings.Contains(got.Reason, want.Reason) {
			t.Errorf("problem %d: got line %d %q; want line %d containing %q", i, got.Line, got.Reason, want.Line, want.Reason)
		}
	}
}

func TestParseAuthorizedKeysReadsCommands(t *testing.T) {
	key := strings.Join(strings.Fields(mustRead(t, "testdata/ed25519_openssh.pub"))[:2], " ")
	tests := []struct {
		name             string
		options          string
		customer, server string
		problem          string
	}{
		{"a plain command", `command="cat > /reports/acme/s1.out"`, "acme", "s1", ""},
		{"no blanks", `command="cat>/reports/acme/s1.out"`, "acme", "s1", ""},
		{"append", `command="cat >> reports/acme/s1.out"`, "acme", "s1", ""},
		{"cat -", `command="cat - >/reports/acme/s1.out"`, "acme", "s1", ""},
		{"an upper-case option name", `Command="cat > /reports/acme/s1.out"`, "acme", "s1", ""},
		{"a single-quoted path", `command="cat > '/reports/a b/s 1.out'"`, "a b", "s 1", ""},
		{"a single-quoted $", `command="cat > '/reports/acme/$x.out'"`, "acme", "$x", ""},
		{"a file named by the client", `command="cat > /reports/acme/$SSH_ORIGINAL_COMMAND"`, "acme", "", ""},
		{"a double-quoted variable", `command="cat > \"/reports/acme/${SSH_ORIGINAL_COMMAND}.out\""`, "acme", "", ""},
		{"a variable customer", `command="cat > /reports/$USER/x.out"`, "", "", "does not name its customer literally"},
		{"a variable folder", `command="cat > /reports/$USER"`, "", "", "does not name its customer literally"},
		{"a variable outside reports", `command="cat > /srv/acme/$X"`, "", "", "not in the reports folder"},
		{"two command options", `command="cat > /reports/a/b.out",command="cat > /reports/c/d.out"`, "", "", "2 command options"},
		{"a pipe", `command="cat | tee /reports/a/b.out"`, "", "", "is not cat >"},
		{"a second command", `command="cat > /reports/a/b.out; rm -rf /"`, "", "", "is not cat >"},
		{"a missing file", `command="cat >"`, "", "", "is not cat >"},
		{"another program", `command="catx > /reports/a/b.out"`, "", "", "is not cat >"},
		{"cat- as a word", `command="cat- > /reports/a/b.out"`, "", "", "is not cat >"},
		{"an unterminated quote", `command="cat > 'reports/a/b.out"`, "", "", "is not cat >"},
		{"a glob", `command="cat > /reports/a/*.out"`, "", "", "is not cat >"},
		{"an input redirection", `command="cat < /etc/passwd"`, "", "", "is not cat >"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			line := tt.options + " " + key + " comment\n"
			entries, problems, err := ParseAuthorizedKeys(strings.NewReader(line))
			if err != nil {
				t.Fatal(err)
			}
			if tt.problem != "" {
				if len(problems) != 1 || !strings.Contains(problems[0].Reason, tt.problem) {
					t.Errorf("%s: got problems %+v, entries %+v; want one problem %q", line, problems, entries, tt.problem)
				}
				return
			}
			if len(problems) != 0 || len(entries) != 1 {
				t.Fatalf("%s: got problems %+v, %d entries; want one entry", line, problems, len(entries))
			}
			if e := entries[0]; e.Customer != tt.customer || e.Server != tt.server || e.Line != 1 {
				t.Errorf("%s: got line %d %q/%q, want line 1 %q/%q", line, e.Line, e.Customer, e.Server, tt.customer, tt.server)
			}
		})
	}
}

func TestParseAuthorizedKeysReportsOverlongLines(t *testing.T) {
	key := strings.TrimSpace(mustRead(t, "testdata/dsa_pem.pub"))
	input := "# first\n" + strings.Repeat("x", maxAuthorizedLine+10) + "\n" +
		`command="cat > /reports/acme/s.out" ` + key
	entries, problems, err := ParseAuthorizedKeys(strings.NewReader(input))
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) != 1 || problems[0].Line != 2 || !strings.Contains(problems[0].Reason, "longer than") {
		t.Errorf("problems: got %+v, want one for line 2", problems)
	}
	if len(entries) != 1 || entries[0].Line != 3 || entries[0].Customer != "acme" {
		t.Errorf("entries: got %+v, want acme on line 3", entries)
	}
}

func TestParseAuthorizedKeysReturnsReadErrors(t *testing.T) {
	boom := errors.New("disk on fire")
	_, _, err := ParseAuthorizedKeys(iotest.ErrReader(boom))
	if !errors.Is(err, boom) {
		t.Errorf("got %v, want %v", err, boom)
	}
}

func mustRead(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestAuthorizedKeysKeepTheForcedCommandOfAServerKey(t *testing.T) {
	key := strings.Join(strings.Fields(mustRead(t, "testdata/ed25519_openssh.pub"))[:2], " ")
	tests := []struct{ options, want string }{
		{`command="cat > /reports/acme/s1.out"`, "cat > /reports/acme/s1.out"},
		{`no-pty,command="cat >> \"/reports/acme/s 1.out\"",from="10.0.0.1"`, `cat >> "/reports/acme/s 1.out"`},
		// The client's command names the file: no forced command, the
		// client's command is parsed like any key's.
		{`command="cat > /reports/acme/$SSH_ORIGINAL_COMMAND"`, ""},
	}
	for _, tt := range tests {
		entries, problems, err := ParseAuthorizedKeys(strings.NewReader(tt.options + " " + key + "\n"))
		if err != nil || len(problems) != 0 || len(entries) != 1 {
			t.Fatalf("%s: entries %+v, problems %+v, err %v", tt.options, entries, problems, err)
		}
		if got := entries[0].Command; got != tt.want {
			t.Errorf("%s: Command = %q, want %q", tt.options, got, tt.want)
		}
	}
}
