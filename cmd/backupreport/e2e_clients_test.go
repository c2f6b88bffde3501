package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// The client matrix: the SSH implementations customers' scripts and tools
// use besides OpenSSH, each against the defect it once hit (see the
// README's "Clients tested" table).

// matrix is one serve instance with a customer, acme, and an RSA and an
// Ed25519 key for it in OpenSSH's format (which libssh2, libssh and
// paramiko all read).
type matrix struct {
	*instance
	keys   map[string]string // key type -> private key file
	src    string            // a report file
	hostFP string            // the server's ed25519 host key fingerprint
}

func newMatrix(t *testing.T) *matrix {
	t.Helper()
	// 127.0.0.1 is never banned: the libssh test's failed logins (before
	// the fix) would otherwise ban it after ten.
	in := startServe(t, "--ban-allow", "127.0.0.1")
	in.mustCLI("customer", "add", "acme")
	m := &matrix{instance: in, keys: map[string]string{}, src: filepath.Join(in.dir, "stats.out")}
	for _, typ := range []string{"rsa", "ed25519"} {
		bits := 0
		if typ == "rsa" {
			bits = 2048
		}
		m.keys[typ] = in.newKey("id_"+typ, typ, bits)
		in.addKey("acme", m.keys[typ])
	}
	os.WriteFile(m.src, statsOut(t, "real-success"), 0o600)
	m.hostFP = strings.Fields(run(t, nil, "ssh-keygen", "-lf", filepath.Join(in.data, "ssh_host_ed25519_key")).stdout)[1]
	return m
}

// TestClientMatrix runs each client against one server.
func TestClientMatrix(t *testing.T) {
	m := newMatrix(t)
	t.Run("curl with libssh2", func(t *testing.T) { testCurlLibssh2(t, m) })
	t.Run("libssh", func(t *testing.T) { testLibssh(t, m) })
	t.Run("paramiko", func(t *testing.T) { testParamiko(t, m) })
	t.Run("psftp and plink -m", func(t *testing.T) { testPsftpAndPlinkCommandFile(t, m) })
}

// wantStored checks that acme/server has an ok result.
func (m *matrix) wantStored(t *testing.T, server string) {
	t.Helper()
	if got := m.status()["acme/"+server]; got.Status != "ok" {
		t.Errorf("acme/%s = %+v, want an ok result\n%s", server, got, m.logs.String())
	}
}

// testCurlLibssh2 uploads with curl's scp:// and sftp://, which Debian's
// curl speaks through libssh2. libssh2 sends scp -t '<path>' with the path
// in single quotes, which were once kept as part of the name (curl exit 25).
func testCurlLibssh2(t *testing.T, m *matrix) {
	needTool(t, "curl")
	if v := run(t, nil, "curl", "-V").stdout; !strings.Contains(v, "libssh2") || !regexp.MustCompile(`(?m)^Protocols:.* scp .*sftp`).MatchString(v) {
		t.Skipf("this curl has no scp:// and sftp:// through libssh2:\n%s", v)
	}
	for typ, key := range m.keys {
		for _, proto := range []string{"scp", "sftp"} {
			t.Run(proto+" with "+typ, func(t *testing.T) {
				server := "curl-" + proto + "-" + typ
				r := run(t, nil, "curl", "-sS", "--insecure", "--key", key, "--pubkey", key+".pub", "-u", "backup:", "-T", m.src,
					proto+"://127.0.0.1:"+m.sshPort+"/reports/acme/"+server+".out")
				if r.code != 0 {
					t.Fatalf("curl %s: exit %d %s\n%s", proto, r.code, r.stderr, m.logs.String())
				}
				m.wantStored(t, server)
			})
		}
	}
}

var (
	libsshOnce   sync.Once
	libsshClient string
	libsshErr    error
)

// libssh builds testdata/libssh_client.c against libssh (libssh-dev).
func libssh(t *testing.T) string {
	t.Helper()
	needTool(t, "gcc")
	libsshOnce.Do(func() {
		dir, err := os.MkdirTemp("", "backupreport-libssh")
		if err != nil {
			libsshErr = err
			return
		}
		libsshClient = filepath.Join(dir, "libssh_client")
		out, err := exec.Command("gcc", "-O1", "-Wno-deprecated-declarations", "-o", libsshClient, filepath.Join("testdata", "libssh_client.c"), "-lssh").CombinedOutput()
		if err != nil {
			libsshErr = fmt.Errorf("gcc libssh_client.c (is libssh-dev installed? run 'make test-deps'): %v\n%s", err, out)
		}
	})
	if libsshErr != nil {
		if os.Getenv("CI") == "" {
			t.Skip(libsshErr)
		}
		t.Fatal(libsshErr)
	}
	return libsshClient
}

// testLibssh logs in with libssh (0.10) and uploads by exec and by scp.
// With an RSA key libssh picks its signature algorithm as soon as the key
// exchange ends: unless the server's EXT_INFO (server-sig-algs) came with
// its NEWKEYS, it falls back to ssh-rsa, which its defaults refuse. Before
// the two were sent in one write, about 1 login in 5 failed; 100 logins
// must all succeed.
func testLibssh(t *testing.T, m *matrix) {
	client := libssh(t)
	t.Run("100 logins with an RSA key all succeed", func(t *testing.T) {
		const parallel, each = 4, 25
		var wg sync.WaitGroup
		out := make([]runResult, parallel)
		for i := range out {
			wg.Add(1)
			go func() {
				defer wg.Done()
				out[i] = run(t, nil, client, "auth", "127.0.0.1", m.sshPort, m.keys["rsa"], fmt.Sprint(each))
			}()
		}
		wg.Wait()
		failed, errs := 0, ""
		for _, r := range out {
			errs += r.stderr
			var n, f int
			if _, err := fmt.Sscanf(r.stdout, "logins %d failures %d", &n, &f); err != nil || n != each {
				t.Fatalf("libssh_client auth: exit %d %q %q", r.code, r.stdout, r.stderr)
			}
			failed += f
		}
		if failed != 0 {
			t.Errorf("%d of %d libssh logins with an RSA key failed; first errors:\n%.600s", failed, parallel*each, errs)
		}
	})
	for typ, key := range m.keys {
		t.Run("exec with "+typ, func(t *testing.T) {
			server := "libssh-exec-" + typ
			r := run(t, bytes.NewReader(statsOut(t, "real-success")), client, "exec", "127.0.0.1", m.sshPort, key, "cat > /reports/acme/"+server+".out")
			if r.code != 0 || !strings.Contains(r.stderr, "backupreport: stored acme/"+server) {
				t.Fatalf("exit %d, stderr %q\n%s", r.code, r.stderr, m.logs.String())
			}
			m.wantStored(t, server)
		})
		t.Run("scp with "+typ, func(t *testing.T) {
			// libssh sends scp -t '/reports/acme/...'.
			server := "libssh-scp-" + typ
			r := run(t, bytes.NewReader(statsOut(t, "real-success")), client, "scp", "127.0.0.1", m.sshPort, key, "/reports/acme/"+server+".out")
			if r.code != 0 {
				t.Fatalf("exit %d, stderr %q\n%s", r.code, r.stderr, m.logs.String())
			}
			m.wantStored(t, server)
		})
	}
}

// python returns a python3 that can import paramiko (Debian's
// python3-paramiko is for /usr/bin/python3, which a pyenv may shadow).
func python(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"python3", "/usr/bin/python3"} {
		if exec.Command(p, "-c", "import paramiko").Run() == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("paramiko is not installed; run 'make test-deps'")
	}
	t.Skip("paramiko is not installed; run 'make test-deps'")
	return ""
}

// paramikoScript uploads with SFTPClient.put, which stats the file it
// wrote (confirm=True) and once failed with "file does not exist", after
// a chdir into the customer's folder, then lists it, then uploads by exec.
const paramikoScript = `
import sys, paramiko
host, port, typ, key, local, name = sys.argv[1:]
k = (paramiko.RSAKey if typ == "rsa" else paramiko.Ed25519Key).from_private_key_file(key)
c = paramiko.SSHClient()
c.set_missing_host_key_policy(paramiko.AutoAddPolicy())
c.connect(host, port=int(port), username="backup", pkey=k, allow_agent=False, look_for_keys=False)
sftp = c.open_sftp()
sftp.chdir("/reports/acme")
attrs = sftp.put(local, name + "-sftp.out")
print("put", attrs.st_size)
print("stat", sftp.stat(name + "-sftp.out").st_size, sftp.lstat("/reports/acme/" + name + "-sftp.out").st_size)
print("list", sftp.listdir("."))
sftp.close()
stdin, stdout, stderr = c.exec_command("cat > /reports/acme/" + name + "-exec.out")
stdin.write(open(local, "rb").read())
stdin.channel.shutdown_write()
print("exec", stdout.channel.recv_exit_status(), stderr.read().decode().strip())
c.close()
`

// testParamiko uploads with paramiko's SFTPClient.put and exec_command.
func testParamiko(t *testing.T, m *matrix) {
	py := python(t)
	size := len(statsOut(t, "real-success"))
	for typ, key := range m.keys {
		t.Run("put and exec with "+typ, func(t *testing.T) {
			name := "paramiko-" + typ
			r := run(t, nil, py, "-c", paramikoScript, "127.0.0.1", m.sshPort, typ, key, m.src, name)
			if r.code != 0 {
				t.Fatalf("exit %d\n%s%s\n%s", r.code, r.stdout, r.stderr, m.logs.String())
			}
			want := fmt.Sprintf("put %d\nstat %d %d\nlist ['%s-sftp.out']\nexec 0 backupreport: stored acme/%s-exec: code 0 ok", size, size, size, name, name)
			if !strings.HasPrefix(r.stdout, want) {
				t.Errorf("paramiko printed\n%s\nwant\n%s", r.stdout, want)
			}
			m.wantStored(t, name+"-sftp")
			m.wantStored(t, name+"-exec")
		})
	}
}

// puttyKey converts an OpenSSH private key to a .ppk for PuTTY's tools.
func (m *matrix) puttyKey(t *testing.T, typ string) string {
	t.Helper()
	needTool(t, "puttygen")
	ppk := m.keys[typ] + ".ppk"
	if r := run(t, nil, "puttygen", m.keys[typ], "-O", "private", "-o", ppk, "--new-passphrase", "/dev/null"); r.code != 0 {
		t.Fatalf("puttygen: %s", r.stderr)
	}
	return ppk
}

// testPsftpAndPlinkCommandFile runs a psftp batch file that starts with
// cd /reports/<customer> (once "permission denied", exit 2) and plink -m
// with a command file ending in a blank line (once "control character
// 0x0d").
func testPsftpAndPlinkCommandFile(t *testing.T, m *matrix) {
	needTool(t, "psftp")
	needTool(t, "plink")
	for _, typ := range []string{"rsa", "ed25519"} {
		ppk := m.puttyKey(t, typ)
		t.Run("psftp cd then put with "+typ, func(t *testing.T) {
			server := "psftp-" + typ
			batch := filepath.Join(m.dir, "batch-"+typ)
			os.WriteFile(batch, []byte("cd /reports/acme\r\nput "+m.src+" "+server+".out\r\ndir\r\n"), 0o600)
			r := run(t, nil, "psftp", "-batch", "-bc", "-P", m.sshPort, "-i", ppk, "-hostkey", m.hostFP, "-b", batch, "backup@127.0.0.1")
			if r.code != 0 {
				t.Fatalf("psftp: exit %d\n%s%s\n%s", r.code, r.stdout, r.stderr, m.logs.String())
			}
			if !strings.Contains(r.stdout, server+".out") {
				t.Errorf("dir does not list the file just uploaded:\n%s", r.stdout)
			}
			m.wantStored(t, server)
		})
		t.Run("plink -m with a blank last line with "+typ, func(t *testing.T) {
			server := "plink-m-" + typ
			cmds := filepath.Join(m.dir, "cmd-"+typ+".txt")
			os.WriteFile(cmds, []byte("cat > /reports/acme/"+server+".out\r\n\r\n"), 0o600)
			r := run(t, bytes.NewReader(statsOut(t, "real-success")), "plink", "-batch", "-ssh", "-P", m.sshPort, "-i", ppk, "-hostkey", m.hostFP,
				"-m", cmds, "backup@127.0.0.1")
			if r.code != 0 {
				t.Fatalf("plink -m: exit %d, stderr %q\n%s", r.code, r.stderr, m.logs.String())
			}
			m.wantStored(t, server)
		})
	}
}

// TestForcedCommandKeys imports keys from an old authorized_keys with
// command="cat > /reports/acme/<server>.out": whatever the client then
// sends (no command, plain cat, sloppy quoting, anything), the input goes
// to that server, as OpenSSH ran the forced command. A key registered
// without one keeps the strict parsing.
func TestForcedCommandKeys(t *testing.T) {
	in := startServe(t)
	in.mustCLI("customer", "add", "acme")
	old := in.newKey("old", "ed25519", 0)
	pub, _ := os.ReadFile(old + ".pub")
	ak := filepath.Join(in.dir, "authorized_keys")
	os.WriteFile(ak, []byte(`command="cat > /reports/acme/forced.out",no-pty `+string(pub)), 0o600)
	if out := in.mustCLI("key", "import", ak); !strings.Contains(out, `forced command "cat > /reports/acme/forced.out"`) {
		t.Errorf("key import does not say the forced command was kept:\n%s", out)
	}
	strict := in.newKey("strict", "ed25519", 0)
	in.addKey("acme/forced", strict)

	var ks []struct {
		Fingerprint   string `json:"fingerprint"`
		ForcedCommand string `json:"forced_command"`
	}
	json.Unmarshal([]byte(in.mustCLI("key", "list", "--json")), &ks)
	if len(ks) != 2 || ks[0].ForcedCommand != "cat > /reports/acme/forced.out" || ks[1].ForcedCommand != "" {
		t.Errorf("key list --json = %+v, want the imported key's forced command and none on the other", ks)
	}

	rep := statsOut(t, "real-success")
	n := 0
	for _, c := range []struct{ name, command string }{
		{"no command (a shell request with stdin)", ""},
		{"plain cat", "cat"},
		{"the old command", "cat > /reports/acme/forced.out"},
		{"sloppy quoting", `cat > "/reports/acme/forced.out`},
		{"another file", "cat > /reports/acme/other.out"},
	} {
		t.Run("the imported key uploads with "+c.name, func(t *testing.T) {
			args := in.sshArgs(old, "-T", "backup@127.0.0.1")
			if c.command != "" {
				args = append(args, c.command)
			}
			r := run(t, bytes.NewReader(rep), "ssh", args...)
			if r.code != 0 || !strings.Contains(r.stderr, "backupreport: stored acme/forced: code 0 ok") {
				t.Fatalf("exit %d, stderr %q\n%s", r.code, r.stderr, in.logs.String())
			}
			n++
			if got := in.historyLen("acme/forced"); got != n {
				t.Errorf("acme/forced has %d results, want %d", got, n)
			}
		})
	}
	if got := in.historyLen("acme/other"); got != 0 {
		t.Errorf("acme/other has %d results; a forced command writes its own server's report", got)
	}
	for _, command := range []string{"", "cat"} {
		r := run(t, bytes.NewReader(rep), "ssh", append(in.sshArgs(strict, "-T", "backup@127.0.0.1"), command)...)
		if r.code == 0 {
			t.Errorf("a key without a forced command uploaded with %q", command)
		}
	}
	// key add --forced does the same for a new key, and needs a server.
	added := in.newKey("added", "ed25519", 0)
	if r := in.cli("key", "add", "acme", added+".pub", "--forced"); r.code == 0 || !strings.Contains(r.stderr, "--forced needs CUSTOMER/SERVER") {
		t.Errorf("key add --forced without a server: exit %d %q", r.code, r.stderr)
	}
	in.mustCLI("key", "add", "acme/forced", added+".pub", "--forced")
	if r := run(t, bytes.NewReader(rep), "ssh", append(in.sshArgs(added, "-T", "backup@127.0.0.1"), "cat")...); r.code != 0 ||
		!strings.Contains(r.stderr, "stored acme/forced") {
		t.Errorf("a key added with --forced: exit %d %q", r.code, r.stderr)
	}
	if !strings.Contains(in.logs.String(), `msg="ssh forced command"`) {
		t.Errorf("forced commands are not logged")
	}
}
