package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestUploadLikeBackupBat pipes a real cwRsync-style report through OpenSSH
// with the exact command backup.bat uses, and checks the receipt and what
// "status --json" then shows.
func TestUploadLikeBackupBat(t *testing.T) {
	in := startServe(t)
	in.mustCLI("customer", "add", "acme", "--name", "Acme Corp")
	key := in.newKey("acme_ed25519", "ed25519", 0)
	in.addKey("acme", key)
	in.mustCLI("exception", "add", "acme", "*.pst", "--note", "Outlook is backed up by VSS")

	r := in.upload(key, "cat > /reports/acme/exch01.out", statsOut(t, "hand-cygwin-ssh-code23"))
	if r.code != 0 {
		t.Fatalf("upload: exit %d, stderr %q\nserver log:\n%s", r.code, r.stderr, in.logs.String())
	}
	want := "backupreport: stored acme/exch01: code 23 failed, 3 file errors (2 excepted), 1261 bytes, 1 vanished\n"
	if r.stderr != want {
		t.Errorf("receipt = %q, want %q", r.stderr, want)
	}
	got := in.status()["acme/exch01"]
	if got.Status != "failed" || got.Code != 23 || got.FileErrors != 1 || got.ExceptedErrors != 2 || got.ReceivedAt == nil {
		t.Errorf("status = %+v, want failed, code 23, 1 failing and 2 excepted errors", got)
	}
	// The key's record keeps how it logged in, for the legacy-crypto view.
	var ks []struct {
		Login struct {
			ClientVersion string `json:"client_version"`
			SigAlgo       string `json:"signature_algorithm"`
			Kex           string `json:"kex"`
		} `json:"last_login"`
	}
	json.Unmarshal([]byte(in.mustCLI("key", "list", "--json")), &ks)
	if len(ks) != 1 || !strings.HasPrefix(ks[0].Login.ClientVersion, "SSH-2.0-OpenSSH") || ks[0].Login.SigAlgo != "ssh-ed25519" || ks[0].Login.Kex == "" {
		t.Errorf("key login record = %+v", ks)
	}
	// The server is new: registered by the upload, marked for approval.
	if out := in.mustCLI("server", "list"); !strings.Contains(out, "new (registered by an upload)") {
		t.Errorf("server list does not mark exch01 new:\n%s", out)
	}
}

// TestCommandVariants checks every way of writing the command customers use.
func TestCommandVariants(t *testing.T) {
	in := startServe(t)
	in.mustCLI("customer", "add", "acme")
	in.mustCLI("customer", "add", "Big Corp")
	key := in.newKey("k", "ed25519", 0)
	in.addKey("acme", key)
	key2 := in.newKey("k2", "ed25519", 0)
	in.addKey("Big Corp", key2)
	ok := statsOut(t, "real-success")
	for i, c := range []struct{ key, command, server string }{
		{key, "cat >/reports/acme/s1.out", "acme/s1"},
		{key, "cat>/reports/acme/s2.out", "acme/s2"},
		{key, "cat - > reports/acme/s3.out", "acme/s3"},
		{key, "cat >> /reports/acme/s4.out", "acme/s4"},
		{key, "  cat   >   /reports/acme/s5.out  ", "acme/s5"},
		{key, "cat > /reports/acme/s6.out\r", "acme/s6"},
		{key, "cat > '/reports/acme/s7.out'", "acme/s7"},
		{key2, `cat > "/reports/Big Corp/file server.out"`, "Big Corp/file server"},
	} {
		t.Run(fmt.Sprintf("%d %s", i, c.command), func(t *testing.T) {
			r := in.upload(c.key, c.command, ok)
			if r.code != 0 || !strings.HasPrefix(r.stderr, "backupreport: stored ") {
				t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
			}
			if got := in.status()[c.server]; got.Status != "ok" || got.Code != 0 {
				t.Errorf("status of %s = %+v, want ok", c.server, got)
			}
		})
	}
}

// TestRefusals checks that every refused request says why, exits non-zero
// and stores nothing.
func TestRefusals(t *testing.T) {
	in := startServe(t)
	in.mustCLI("customer", "add", "acme")
	in.mustCLI("customer", "add", "other")
	in.mustCLI("server", "add", "acme/exch01")
	in.mustCLI("server", "add", "acme/dc01")
	key := in.newKey("acme", "ed25519", 0)
	in.addKey("acme", key)
	bound := in.newKey("bound", "ed25519", 0)
	in.addKey("acme/exch01", bound)
	stranger := in.newKey("stranger", "ed25519", 0)
	revoked := in.newKey("revoked", "ecdsa", 256)
	fp := in.addKey("acme", revoked)
	in.mustCLI("key", "revoke", fp)
	rep := statsOut(t, "real-success")

	cases := []struct {
		name, key, command string
		extra              []string
		wantCode           int
		wantErr            string
	}{
		{"an unknown key", stranger, "cat > /reports/acme/exch01.out", nil, 255, "Permission denied"},
		{"a revoked key", revoked, "cat > /reports/acme/exch01.out", nil, 255, "Permission denied"},
		{"another customer's path", key, "cat > /reports/other/srv.out", nil, 1, "may not upload for customer"},
		{"a server-bound key naming another server", bound, "cat > /reports/acme/dc01.out", nil, 1, "may only upload as server"},
		{"path traversal", key, "cat > /reports/acme/../other/srv.out", nil, 1, "report path"},
		{"another folder", key, "cat > /etc/passwd", nil, 1, "report path"},
		{"another command", key, "rm -rf /", nil, 1, "command refused"},
		{"a command chained after cat", key, "cat > /reports/acme/exch01.out; id", nil, 1, "command refused"},
		{"a shell", key, "", nil, 1, "shells are not offered"},
		{"a pty", key, "cat > /reports/acme/exch01.out", []string{"-tt"}, 1, "interactive terminals are not offered"},
		{"a subsystem other than sftp", key, "netconf", []string{"-s"}, 1, `the "netconf" subsystem is not offered`},
		{"remote port forwarding on an upload", key, "cat > /reports/acme/exch01.out", []string{"-R", "0:127.0.0.1:9"}, 1, "port forwarding is not offered"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := in.sshArgs(c.key, c.extra...)
			args = append(args, "backup@127.0.0.1")
			if c.command != "" {
				args = append(args, c.command)
			}
			r := run(t, bytes.NewReader(rep), "ssh", args...)
			if r.code != c.wantCode && !(c.wantCode == 255 && r.code != 0) {
				t.Errorf("exit %d, want %d; stderr %q", r.code, c.wantCode, r.stderr)
			}
			if !strings.Contains(r.stderr, c.wantErr) {
				t.Errorf("stderr %q does not say %q", r.stderr, c.wantErr)
			}
		})
	}
	t.Run("agent forwarding", func(t *testing.T) {
		sock := startAgent(t, in.dir)
		cmd := exec.Command("ssh", append(in.sshArgs(key, "-A"), "x@127.0.0.1", "cat > /reports/acme/exch01.out")...)
		cmd.Env = append(os.Environ(), "SSH_AUTH_SOCK="+sock)
		cmd.Stdin = bytes.NewReader(rep)
		var errb bytes.Buffer
		cmd.Stderr = &errb
		err := cmd.Run()
		if err == nil || !strings.Contains(errb.String(), "agent forwarding is not offered") {
			t.Errorf("ssh -A: %v, stderr %q", err, errb.String())
		}
	})
	t.Run("X11 forwarding", func(t *testing.T) {
		cmd := exec.Command("ssh", append(in.sshArgs(key, "-X"), "x@127.0.0.1", "cat > /reports/acme/exch01.out")...)
		cmd.Env = append(os.Environ(), "DISPLAY=127.0.0.1:0") // ssh asks for X11 only with a display
		cmd.Stdin = bytes.NewReader(rep)
		var errb bytes.Buffer
		cmd.Stderr = &errb
		err := cmd.Run()
		if err == nil || !strings.Contains(errb.String(), "X11 forwarding is not offered") {
			t.Errorf("ssh -X: %v, stderr %q", err, errb.String())
		}
	})
	t.Run("port forwarding", func(t *testing.T) {
		r := run(t, nil, "ssh", append(in.sshArgs(key, "-W", "127.0.0.1:"+in.sshPort), "backup@127.0.0.1")...)
		if r.code == 0 {
			t.Errorf("stdio forwarding succeeded: %q", r.stderr)
		}
		r = run(t, nil, "ssh", append(in.sshArgs(key, "-N", "-o", "ExitOnForwardFailure=yes", "-R", "0:127.0.0.1:22"), "backup@127.0.0.1")...)
		if r.code == 0 || !strings.Contains(r.stderr, "forwarding failed") {
			t.Errorf("remote forwarding: exit %d, stderr %q", r.code, r.stderr)
		}
	})
	for _, s := range []string{"acme/exch01", "acme/dc01", "other/srv"} {
		if n := in.historyLen(s); n != 0 {
			t.Errorf("%s has %d results after refusals, want 0", s, n)
		}
	}
	if out := in.mustCLI("server", "list"); strings.Contains(out, "srv") || strings.Contains(out, "passwd") {
		t.Errorf("a refused upload registered a server:\n%s", out)
	}
}

// TestAutoRegisterOff refuses unknown servers when asked to.
func TestAutoRegisterOff(t *testing.T) {
	in := startServe(t, "--auto-register=false")
	in.mustCLI("customer", "add", "acme")
	key := in.newKey("k", "ed25519", 0)
	in.addKey("acme", key)
	r := in.upload(key, "cat > /reports/acme/newbox.out", statsOut(t, "real-success"))
	if r.code != 1 || !strings.Contains(r.stderr, "not registered") {
		t.Fatalf("exit %d, stderr %q; want a refusal", r.code, r.stderr)
	}
	in.mustCLI("server", "add", "acme/newbox")
	if r := in.upload(key, "cat > /reports/acme/newbox.out", statsOut(t, "real-success")); r.code != 0 {
		t.Fatalf("registered server refused: %q", r.stderr)
	}
}

// TestOldClients checks DSA keys, RSA with SHA-1 signatures and an
// OpenSSH-5-era algorithm offer.
func TestOldClients(t *testing.T) {
	in := startServe(t)
	in.mustCLI("customer", "add", "acme")
	dsa := in.newKey("id_dsa", "dsa", 0)
	in.addKey("acme", dsa)
	rsa := in.newKey("id_rsa", "rsa", 2048)
	in.addKey("acme", rsa)
	rep := statsOut(t, "real-success")
	for _, c := range []struct {
		name, key, server, sigAlgo string
		opts                       []string
	}{
		{"a DSA key", dsa, "dsa", "ssh-dss", []string{"-o", "PubkeyAcceptedAlgorithms=+ssh-dss"}},
		{"RSA with SHA-1 signatures", rsa, "sha1", "ssh-rsa", []string{"-o", "PubkeyAcceptedAlgorithms=ssh-rsa"}},
		{"an OpenSSH 5 offer", rsa, "old", "", []string{"-o", "KexAlgorithms=diffie-hellman-group14-sha1", "-o", "Ciphers=aes128-ctr",
			"-o", "MACs=hmac-sha1", "-o", "HostKeyAlgorithms=ssh-rsa", "-o", "PubkeyAcceptedAlgorithms=ssh-rsa"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := in.upload(c.key, "cat > /reports/acme/"+c.server+".out", rep, c.opts...)
			if r.code != 0 {
				t.Fatalf("exit %d, stderr %q\n%s", r.code, r.stderr, in.logs.String())
			}
			if got := in.status()["acme/"+c.server]; got.Status != "ok" {
				t.Errorf("status = %+v", got)
			}
			if c.sigAlgo != "" && !strings.Contains(in.logs.String(), "signature_algorithm="+c.sigAlgo) {
				t.Errorf("login with %s not logged", c.sigAlgo)
			}
		})
	}
	if !strings.Contains(in.logs.String(), "kex=diffie-hellman-group14-sha1 cipher=aes128-ctr mac=hmac-sha1") {
		t.Errorf("the old algorithms were not logged:\n%s", in.logs.String())
	}
}

// TestSFTPAndSCP uploads with sftp put, scp in SFTP mode and legacy scp -O.
func TestSFTPAndSCP(t *testing.T) {
	in := startServe(t)
	needTool(t, "sftp")
	needTool(t, "scp")
	in.mustCLI("customer", "add", "acme")
	key := in.newKey("k", "ed25519", 0)
	in.addKey("acme", key)
	src := filepath.Join(in.dir, "stats.out")
	os.WriteFile(src, statsOut(t, "hand-cygwin-ssh-code23"), 0o600)

	batch := filepath.Join(in.dir, "batch")
	os.WriteFile(batch, []byte("put "+src+" /reports/acme/viasftp.out\nput "+src+" relative.out\n"), 0o600)
	r := run(t, nil, "sftp", append(in.sshArgs(key, "-b", batch), "backup@127.0.0.1")...)
	if r.code != 0 {
		t.Fatalf("sftp put: exit %d\n%s%s\n%s", r.code, r.stdout, r.stderr, in.logs.String())
	}
	r = run(t, nil, "scp", append(in.sshArgs(key, "-s"), src, "backup@127.0.0.1:/reports/acme/viascp.out")...)
	if r.code != 0 {
		t.Fatalf("scp (sftp mode): exit %d\n%s", r.code, r.stderr)
	}
	r = run(t, nil, "scp", append(in.sshArgs(key, "-O"), src, "backup@127.0.0.1:/reports/acme/legacyscp.out")...)
	if r.code != 0 {
		t.Fatalf("scp -O: exit %d\n%s\n%s", r.code, r.stderr, in.logs.String())
	}
	if !strings.Contains(r.stderr, "backupreport: stored acme/legacyscp: code 23 failed") {
		t.Errorf("scp -O receipt missing: %q", r.stderr)
	}
	st := in.status()
	for _, s := range []string{"viasftp", "relative", "viascp", "legacyscp"} {
		if got := st["acme/"+s]; got.Status != "failed" || got.Code != 23 || got.FileErrors != 3 {
			t.Errorf("acme/%s = %+v, want failed 23 with 3 errors", s, got)
		}
	}

	// The jail: nothing can be read; the customer's folder lists only
	// what this session uploaded (here nothing), other folders not at all;
	// other customers' folders cannot be written.
	os.WriteFile(batch, []byte("ls /reports/acme\n"), 0o600)
	if r := run(t, nil, "sftp", append(in.sshArgs(key, "-b", batch), "backup@127.0.0.1")...); r.code != 0 || strings.Contains(r.stdout, ".out") {
		t.Errorf("sftp ls of the customer's folder: exit %d, want 0 and no files from earlier sessions:\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, dir := range []string{"/reports", "/", "/reports/other"} {
		os.WriteFile(batch, []byte("ls "+dir+"\n"), 0o600)
		if r := run(t, nil, "sftp", append(in.sshArgs(key, "-b", batch), "backup@127.0.0.1")...); r.code == 0 {
			t.Errorf("sftp ls %s succeeded:\n%s", dir, r.stdout)
		}
	}
	dl := filepath.Join(in.dir, "dl")
	os.WriteFile(batch, []byte("get /reports/acme/viasftp.out "+dl+"\n"), 0o600)
	if r := run(t, nil, "sftp", append(in.sshArgs(key, "-b", batch), "backup@127.0.0.1")...); r.code == 0 {
		t.Errorf("sftp get succeeded")
	}
	os.WriteFile(batch, []byte("put "+src+" /reports/other/x.out\n"), 0o600)
	if r := run(t, nil, "sftp", append(in.sshArgs(key, "-b", batch), "backup@127.0.0.1")...); r.code == 0 {
		t.Errorf("sftp put into another customer succeeded")
	}
	if r := run(t, nil, "scp", append(in.sshArgs(key, "-O"), src, "backup@127.0.0.1:/reports/other/x.out")...); r.code == 0 ||
		strings.Count(r.stderr, `may not upload for customer "other"`) != 1 {
		t.Errorf("scp -O into another customer: exit %d, stderr %q; want one line saying why", r.code, r.stderr)
	}
	if r := run(t, nil, "scp", append(in.sshArgs(key, "-O"), src, "backup@127.0.0.1:/reports/other/../acme/x.out")...); r.code == 0 ||
		!strings.Contains(r.stderr, "contains ..") {
		t.Errorf("scp -O with .. in the path: exit %d, stderr %q", r.code, r.stderr)
	}
	if n := in.historyLen("other/x"); n != 0 {
		t.Errorf("other/x has %d results", n)
	}
}

// TestPlink uploads with PuTTY's plink and a .ppk key made by puttygen.
func TestPlink(t *testing.T) {
	in := startServe(t)
	needTool(t, "plink")
	needTool(t, "puttygen")
	in.mustCLI("customer", "add", "acme")
	for _, typ := range []string{"rsa", "dsa", "ed25519"} {
		t.Run(typ, func(t *testing.T) {
			ppk := filepath.Join(in.dir, typ+".ppk")
			args := []string{"-t", typ, "-o", ppk, "--new-passphrase", "/dev/null"}
			if typ == "dsa" {
				args = append(args, "-b", "1024") // the only DSA size x/crypto accepts
			}
			if r := run(t, nil, "puttygen", args...); r.code != 0 {
				t.Fatalf("puttygen: %s", r.stderr)
			}
			// Register the key as staff would: from the .ppk's public part.
			in.mustCLI("server", "add", "acme/"+typ+"box")
			in.mustCLI("key", "add", "acme/"+typ+"box", ppk)
			hostFP := strings.Fields(run(t, nil, "ssh-keygen", "-lf", filepath.Join(in.data, "ssh_host_ed25519_key")).stdout)[1]
			r := run(t, bytes.NewReader(statsOut(t, "real-success")), "plink", "-batch", "-ssh", "-P", in.sshPort, "-i", ppk, "-hostkey", hostFP,
				"backup@127.0.0.1", "cat > /reports/acme/"+typ+"box.out")
			if r.code != 0 {
				t.Fatalf("plink: exit %d, stderr %q\n%s", r.code, r.stderr, in.logs.String())
			}
			if got := in.status()["acme/"+typ+"box"]; got.Status != "ok" {
				t.Errorf("status = %+v", got)
			}
		})
	}
}

// TestOfferedKeyIsNotIdentity is the CVE-2024-45337 case: the client offers
// customer A's key, the server accepts the offer, then the client signs with
// B's key instead. The upload must land as B or be refused, never as A.
// A's key sits in an ssh-agent that refuses to sign (confirmation required,
// and the askpass program says no), so OpenSSH moves on to B after A's
// offer was accepted: the real attack's shape.
func TestOfferedKeyIsNotIdentity(t *testing.T) {
	in := startServe(t)
	needTool(t, "ssh-agent")
	in.mustCLI("customer", "add", "alpha")
	in.mustCLI("customer", "add", "bravo")
	a := in.newKey("a", "ed25519", 0)
	in.addKey("alpha", a)
	b := in.newKey("b", "ed25519", 0)
	in.addKey("bravo", b)

	sock := startAgent(t, in.dir, "SSH_ASKPASS=/bin/false", "SSH_ASKPASS_REQUIRE=force", "DISPLAY=:0")
	add := exec.Command("ssh-add", "-c", a)
	add.Env = append(os.Environ(), "SSH_AUTH_SOCK="+sock)
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("ssh-add: %v %s", err, out)
	}

	rep := statsOut(t, "real-success")
	attack := func(path string) runResult {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, "ssh", "-v", "-o", "Port="+in.sshPort, "-i", b, "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
			"-o", "UserKnownHostsFile=/dev/null", "x@127.0.0.1", "cat > "+path)
		cmd.Env = append(os.Environ(), "SSH_AUTH_SOCK="+sock)
		cmd.Stdin = bytes.NewReader(rep)
		var errb bytes.Buffer
		cmd.Stderr = &errb
		if err := cmd.Run(); err != nil && cmd.ProcessState == nil {
			t.Fatalf("ssh: %v", err)
		}
		return runResult{stderr: errb.String(), code: cmd.ProcessState.ExitCode()}
	}
	r := attack("/reports/alpha/s.out")
	if !strings.Contains(r.stderr, "Server accepts key: a ED25519") || !strings.Contains(r.stderr, "signing failed") {
		t.Fatalf("the client did not offer A and then sign with B; stderr:\n%s", r.stderr)
	}
	if r.code == 0 || !strings.Contains(r.stderr, `may not upload for customer "alpha"`) {
		t.Errorf("upload as alpha with bravo's signature: exit %d\n%s", r.code, r.stderr)
	}
	if n := in.historyLen("alpha/s"); n != 0 {
		t.Errorf("alpha/s has %d results", n)
	}
	r = attack("/reports/bravo/s.out")
	if r.code != 0 || !strings.Contains(r.stderr, "stored bravo/s") {
		t.Errorf("upload as bravo: exit %d\n%s", r.code, r.stderr)
	}
}

// TestConcurrentUploads sends 50 uploads at once from real clients.
func TestConcurrentUploads(t *testing.T) {
	in := startServe(t)
	in.mustCLI("customer", "add", "acme")
	key := in.newKey("k", "ed25519", 0)
	in.addKey("acme", key)
	rep := statsOut(t, "hand-cygwin-ssh-code23")
	var wg sync.WaitGroup
	errs := make(chan string, 50)
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			r := in.upload(key, fmt.Sprintf("cat > /reports/acme/srv%02d.out", i), rep)
			if r.code != 0 {
				errs <- fmt.Sprintf("upload %d: exit %d %q", i, r.code, r.stderr)
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	st := in.status()
	for i := 0; i < 50; i++ {
		if got := st[fmt.Sprintf("acme/srv%02d", i)]; got.Code != 23 {
			t.Errorf("srv%02d = %+v", i, got)
		}
	}
}

// startAgent starts an ssh-agent with extra environment and returns its socket.
func startAgent(t *testing.T, dir string, env ...string) string {
	t.Helper()
	needTool(t, "ssh-agent")
	sock, err := os.MkdirTemp(dir, "agent")
	if err != nil {
		t.Fatal(err)
	}
	sock = filepath.Join(sock, "sock")
	agent := exec.Command("ssh-agent", "-D", "-a", sock)
	agent.Env = append(os.Environ(), env...)
	if err := agent.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { agent.Process.Kill(); agent.Wait() })
	for i := 0; i < 50; i++ {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	return sock
}
