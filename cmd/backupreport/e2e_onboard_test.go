package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestOnboardCommandSetsUpAServerThatUploads runs 'onboard' against a
// running serve: the printed ssh line, with only the printed known_hosts
// line trusted (strict host key checking), stores a report; running
// onboard again changes nothing and shows the verdict. serve's stderr
// carries no copy of the listener lines.
func TestOnboardCommandSetsUpAServerThatUploads(t *testing.T) {
	sshBin := needTool(t, "ssh")
	in := startServe(t)
	key := in.newKey("id_ed25519", "ed25519", 0)
	stats, _ := filepath.Abs("../../testdata/rsync/real-success/stats.out")
	args := []string{"onboard", "acme/exch01", "--key", key + ".pub", "--name", "Acme Accounting", "--host", "127.0.0.1",
		"--ssh-addr", "127.0.0.1:" + in.sshPort, "--key-file", key, "--report-file", stats}
	out := in.mustCLI(args...)
	for _, want := range []string{"added customer acme", "added server acme/exch01", "added key SHA256:", "First upload: waiting",
		`type ` + stats + ` | ssh.exe -i ` + key + ` -p ` + in.sshPort + ` backup@127.0.0.1 "cat > /reports/acme/exch01.out"`} {
		if !strings.Contains(out, want) {
			t.Errorf("onboard output lacks %q:\n%s", want, out)
		}
	}
	var sshLine, knownHosts string
	lines := strings.Split(out, "\n")
	for i, l := range lines {
		if strings.TrimSpace(l) == "OpenSSH ssh:" && i+1 < len(lines) {
			sshLine = strings.TrimSpace(lines[i+1])
		}
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), "known_hosts: "); ok && knownHosts == "" {
			knownHosts = v
		}
	}
	kh := filepath.Join(in.dir, "known_hosts")
	os.WriteFile(kh, []byte(knownHosts+"\n"), 0o600)
	cfg := filepath.Join(in.dir, "ssh_config")
	os.WriteFile(cfg, []byte("Host *\n  StrictHostKeyChecking yes\n  UserKnownHostsFile "+kh+"\n  GlobalKnownHostsFile /dev/null\n  BatchMode yes\n"), 0o600)
	bin := filepath.Join(in.dir, "bin")
	os.Mkdir(bin, 0o755)
	os.WriteFile(filepath.Join(bin, "ssh"), []byte("#!/bin/sh\nexec "+sshBin+" -F "+cfg+" \"$@\"\n"), 0o755)
	cmd := exec.Command("sh", "-c", sshLine)
	cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"))
	if b, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(b), "stored acme/exch01") {
		t.Fatalf("the printed ssh line: %v\n$ %s\n%s", err, sshLine, b)
	}

	out = in.mustCLI(args...)
	if !strings.Contains(out, "was registered for acme/exch01 already") || !strings.Contains(out, "First upload: received") || !strings.Contains(out, ", ok (code 0") {
		t.Errorf("second onboard:\n%s", out)
	}
	if strings.Contains(in.logs.String(), "listening") {
		t.Errorf("serve's log repeats the listener lines:\n%s", in.logs.String())
	}
}

// TestNotFoundNamesTheFix: a command about a customer or server not known
// yet says which command creates it.
func TestNotFoundNamesTheFix(t *testing.T) {
	dir := t.TempDir()
	bin := binary(t)
	cli := func(args ...string) runResult { return run(t, nil, bin, append(args, "--data", dir)...) }
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"an exception for an unknown customer", []string{"exception", "add", "acme/exch02", "*.pst"}, "backupreport onboard acme/exch02 --key FILE"},
		{"a server of an unknown customer", []string{"server", "add", "acme/exch02"}, "backupreport customer add acme"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := cli(c.args...)
			if r.code == 0 || !strings.Contains(r.stderr, c.want) {
				t.Errorf("%v: exit %d, stderr %q; want it to name %q", c.args, r.code, r.stderr, c.want)
			}
		})
	}
	if r := cli("customer", "add", "acme"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	r := cli("exception", "add", "acme/exch02", "*.pst")
	if r.code == 0 || !strings.Contains(r.stderr, "backupreport server add acme/exch02") {
		t.Errorf("exception for an unknown server: exit %d, stderr %q; want it to name 'backupreport server add acme/exch02'", r.code, r.stderr)
	}
	r = cli("history", "acme/exch02")
	if r.code == 0 || !strings.Contains(r.stderr, "backupreport server add acme/exch02") {
		t.Errorf("history of an unknown server: exit %d, stderr %q", r.code, r.stderr)
	}
}
