package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// historyRow is the part of "history --json" these tests read.
type historyRow struct {
	Status      string `json:"status"`
	Code        int    `json:"code"`
	Interrupted bool   `json:"interrupted"`
	Reason      string `json:"reason"`
	UploadBytes int64  `json:"upload_bytes"`
	Protocol    string `json:"protocol"`
}

func (in *instance) history(server string) []historyRow {
	in.t.Helper()
	var rows []historyRow
	if err := json.Unmarshal([]byte(in.mustCLI("history", server, "--json")), &rows); err != nil {
		in.t.Fatal(err)
	}
	return rows
}

// waitHistory polls until a server has n results.
func (in *instance) waitHistory(server string, n int) []historyRow {
	in.t.Helper()
	for i := 0; i < 100; i++ {
		if in.historyLen(server) >= n {
			return in.history(server)
		}
		time.Sleep(100 * time.Millisecond)
	}
	in.t.Fatalf("%s never got %d results\n%s", server, n, in.logs.String())
	return nil
}

// TestInterruptedUploadIsKept kills the client mid-upload: what arrived is
// stored, marked interrupted, with code -2 unless a final code had arrived.
func TestInterruptedUploadIsKept(t *testing.T) {
	in := startServe(t)
	in.mustCLI("customer", "add", "acme")
	key := in.newKey("k", "ed25519", 0)
	in.addKey("acme", key)
	full := statsOut(t, "hand-cygwin-ssh-code23")
	cut := bytes.Index(full, []byte("\nsent ")) // before the summary and the final line
	for _, c := range []struct {
		name, server string
		part         []byte
		wantCode     int
	}{
		{"before the final line", "cut", full[:cut], -2},
		{"after the final line", "whole", full, 23},
	} {
		t.Run(c.name, func(t *testing.T) {
			cmd := exec.Command("ssh", append(in.sshArgs(key), "x@127.0.0.1", "cat > /reports/acme/"+c.server+".out")...)
			stdin, _ := cmd.StdinPipe()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			stdin.Write(c.part)
			time.Sleep(2 * time.Second) // let the bytes reach the server
			cmd.Process.Kill()          // the connection dies before EOF
			cmd.Wait()
			rows := in.waitHistory("acme/"+c.server, 1)
			if r := rows[0]; !r.Interrupted || r.Code != c.wantCode || r.Status != "failed" || r.UploadBytes != int64(len(c.part)) {
				t.Errorf("stored %+v, want interrupted, code %d, failed, %d bytes", r, c.wantCode, len(c.part))
			}
		})
	}
}

// TestUploadCap ends an upload over --max-upload-bytes with an error and
// records the night as failed; a long log within the cap is stored.
func TestUploadCap(t *testing.T) {
	in := startServe(t, "--max-upload-bytes", "20000", "--max-log-bytes", "4000")
	in.mustCLI("customer", "add", "acme")
	key := in.newKey("k", "ed25519", 0)
	in.addKey("acme", key)
	var big bytes.Buffer
	for big.Len() < 30000 {
		big.WriteString("/cygdrive/E/shares/Projects/some/folder/file.txt\n")
	}
	r := in.upload(key, "cat > /reports/acme/big.out", big.Bytes())
	if r.code != 1 || !strings.Contains(r.stderr, "larger than the 20000-byte limit") {
		t.Errorf("over the cap: exit %d, stderr %q", r.code, r.stderr)
	}
	rows := in.waitHistory("acme/big", 1)
	if rows[0].Status != "failed" || !strings.Contains(rows[0].Reason, "limit") {
		t.Errorf("over the cap stored as %+v", rows[0])
	}
	// Under the upload cap but over the log cap: parsed whole, stored.
	long := append(bytes.Repeat([]byte("/cygdrive/E/shares/x.txt\n"), 600), statsOut(t, "real-success")...)
	r = in.upload(key, "cat > /reports/acme/long.out", long)
	if r.code != 0 {
		t.Fatalf("long log: exit %d %q", r.code, r.stderr)
	}
	if got := in.status()["acme/long"]; got.Status != "ok" {
		t.Errorf("long log = %+v, want ok (its final lines are past the stored head)", got)
	}
}

// TestLegacyCrypto: the very oldest algorithms work only when asked for.
func TestLegacyCrypto(t *testing.T) {
	old := []string{"-o", "KexAlgorithms=+diffie-hellman-group1-sha1", "-o", "KexAlgorithms=diffie-hellman-group1-sha1",
		"-o", "Ciphers=aes128-cbc", "-o", "HostKeyAlgorithms=+ssh-rsa"}
	for _, legacy := range []bool{false, true} {
		var in *instance
		if legacy {
			in = startServe(t, "--legacy-crypto")
		} else {
			in = startServe(t)
		}
		in.mustCLI("customer", "add", "acme")
		key := in.newKey("k", "rsa", 2048)
		in.addKey("acme", key)
		for _, cipher := range []string{"aes128-cbc", "3des-cbc"} {
			opts := append(append([]string{}, old...), "-o", "Ciphers="+cipher)
			r := in.upload(key, "cat > /reports/acme/old.out", statsOut(t, "real-success"), opts...)
			if legacy && r.code != 0 {
				t.Errorf("--legacy-crypto with %s: exit %d %q", cipher, r.code, r.stderr)
			}
			if !legacy && r.code == 0 {
				t.Errorf("group1-sha1 with %s accepted without --legacy-crypto", cipher)
			}
		}
	}
}

// TestHostKeysPersistAndImport: the server keeps its generated host keys
// across restarts, and offers the old server's keys given with --host-key,
// so customers' known_hosts keep matching.
func TestHostKeysPersistAndImport(t *testing.T) {
	dir := t.TempDir()
	gen := func(name, typ string, extra ...string) string {
		p := filepath.Join(dir, name)
		args := append([]string{"-q", "-t", typ, "-N", "", "-f", p}, extra...)
		if r := run(t, nil, "ssh-keygen", args...); r.code != 0 {
			t.Fatalf("ssh-keygen %v: %s", args, r.stderr)
		}
		return p
	}
	hostKeys := []struct{ file, alg string }{
		{gen("rsa_pem", "rsa", "-m", "PEM", "-b", "2048"), "rsa-sha2-256"},
		{gen("ecdsa_openssh", "ecdsa"), "ecdsa-sha2-nistp256"},
		{gen("ed25519_openssh", "ed25519"), "ssh-ed25519"},
		{gen("dsa_pem", "dsa", "-m", "PEM"), "ssh-dss"},
	}
	var flags []string
	for _, h := range hostKeys {
		flags = append(flags, "--host-key", h.file)
	}
	rep := statsOut(t, "real-success")
	// strict uploads with known_hosts holding only pub, for algorithm alg.
	strict := func(in *instance, key, pub, alg string) runResult {
		pubKey, _ := os.ReadFile(pub)
		kh := filepath.Join(in.dir, "known_hosts")
		os.WriteFile(kh, []byte("[127.0.0.1]:"+in.sshPort+" "+string(pubKey)), 0o600)
		args := []string{"-o", "Port=" + in.sshPort, "-i", key, "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
			"-o", "StrictHostKeyChecking=yes", "-o", "UserKnownHostsFile=" + kh, "-o", "HostKeyAlgorithms=" + alg,
			"x@127.0.0.1", "cat > /reports/acme/s.out"}
		return run(t, bytes.NewReader(rep), "ssh", args...)
	}
	setup := func(in *instance) string {
		in.mustCLI("customer", "add", "acme")
		key := in.newKey("k", "ed25519", 0)
		in.addKey("acme", key)
		return key
	}

	in := startServe(t, flags...)
	key := setup(in)
	for _, h := range hostKeys {
		if r := strict(in, key, h.file+".pub", h.alg); r.code != 0 {
			t.Errorf("old host key %s: exit %d %q", filepath.Base(h.file), r.code, r.stderr)
		}
	}

	// Generated keys: the same after a restart.
	in = startServe(t)
	key = setup(in)
	own := filepath.Join(in.dir, "own.pub")
	for _, k := range []struct{ file, alg string }{{"ssh_host_ed25519_key", "ssh-ed25519"}, {"ssh_host_rsa_key", "rsa-sha2-512"}} {
		pub := run(t, nil, "ssh-keygen", "-y", "-f", filepath.Join(in.data, k.file)).stdout
		os.WriteFile(own, []byte(pub), 0o600)
		if r := strict(in, key, own, k.alg); r.code != 0 {
			t.Fatalf("own host key %s: %q", k.file, r.stderr)
		}
		if err := in.stop(); err != nil {
			t.Fatal(err)
		}
		in.start()
		if r := strict(in, key, own, k.alg); r.code != 0 {
			t.Errorf("host key %s changed across a restart: %q", k.file, r.stderr)
		}
	}
}

// TestShutdownLetsUploadsFinish sends SIGTERM while an upload is in flight:
// the upload finishes and is acknowledged, new ones are refused, and serve
// exits cleanly.
func TestShutdownLetsUploadsFinish(t *testing.T) {
	in := startServe(t)
	in.mustCLI("customer", "add", "acme")
	key := in.newKey("k", "ed25519", 0)
	in.addKey("acme", key)
	rep := statsOut(t, "hand-cygwin-ssh-code23")
	cmd := exec.Command("ssh", append(in.sshArgs(key), "x@127.0.0.1", "cat > /reports/acme/slow.out")...)
	stdin, _ := cmd.StdinPipe()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stdin.Write(rep[:500])
	// The login can take seconds under -race on a busy machine; the session
	// starts right after it.
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(in.logs.String(), "ssh login"); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no login in the log:\n%s", in.logs.String())
		}
	}
	time.Sleep(time.Second)
	in.cmd.Process.Signal(os.Interrupt)
	time.Sleep(500 * time.Millisecond)
	stdin.Write(rep[500:])
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Errorf("upload in flight during shutdown: %v, stderr %q", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "stored acme/slow") {
		t.Errorf("no receipt: %q", stderr.String())
	}
	if err := in.stop(); err != nil {
		t.Errorf("serve: %v\n%s", err, in.logs.String())
	}
	if got := in.history("acme/slow"); len(got) != 1 || got[0].Code != 23 || got[0].Interrupted {
		t.Errorf("stored %+v", got)
	}
}

// TestKeyImport migrates the old server's authorized_keys.
func TestKeyImport(t *testing.T) {
	in := startServe(t)
	a := in.newKey("a", "ed25519", 0)
	b := in.newKey("b", "dsa", 0)
	c := in.newKey("c", "rsa", 2048)
	pub := func(k string) string { b, _ := os.ReadFile(k + ".pub"); return strings.TrimSpace(string(b)) }
	ak := filepath.Join(in.dir, "authorized_keys")
	os.WriteFile(ak, []byte(strings.Join([]string{
		"# the old server's keys",
		`command="cat > /reports/acme/exch01.out",no-pty,no-port-forwarding ` + pub(a),
		`command="cat > /reports/bigcorp/fs1.out" ` + pub(b),
		pub(c), // no command: reported, not guessed
		"",
	}, "\n")), 0o600)
	r := in.cli("key", "import", ak, "--dry-run")
	if r.code != 1 || !strings.Contains(r.stdout, "would import line 2") || !strings.Contains(r.stderr, "line 4 not imported") {
		t.Errorf("dry run: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if out := in.mustCLI("customer", "list"); strings.Contains(out, "acme") {
		t.Errorf("dry run changed data:\n%s", out)
	}
	r = in.cli("key", "import", ak)
	if r.code != 1 || !strings.Contains(r.stdout, "2 imported, 1 not imported") {
		t.Errorf("import: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// The imported DSA key uploads as before.
	if r := in.upload(b, "cat > /reports/bigcorp/fs1.out", statsOut(t, "real-success"), "-o", "PubkeyAcceptedAlgorithms=+ssh-dss"); r.code != 0 {
		t.Errorf("imported DSA key: exit %d %q", r.code, r.stderr)
	}
	if got := in.status()["bigcorp/fs1"]; got.Status != "ok" {
		t.Errorf("status = %+v", got)
	}
}
