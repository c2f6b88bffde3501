package keys

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// hostKeyServer is a bare SSH server offering one host key that accepts
// any client key and answers every exec with exit status 0.
func hostKeyServer(t *testing.T, signer ssh.Signer) int {
	t.Helper()
	cfg := &ssh.ServerConfig{PublicKeyCallback: func(ssh.ConnMetadata, ssh.PublicKey) (*ssh.Permissions, error) { return nil, nil }}
	cfg.AddHostKey(signer)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, chans, reqs, err := ssh.NewServerConn(c, cfg)
				if err != nil {
					return
				}
				go ssh.DiscardRequests(reqs)
				for nc := range chans {
					ch, creqs, err := nc.Accept()
					if err != nil {
						return
					}
					go func() {
						for r := range creqs {
							r.Reply(r.Type == "exec", nil)
							if r.Type == "exec" {
								ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{0}))
								ch.Close()
							}
						}
					}()
				}
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

// TestHostKeyLinesSatisfyStrictClients gives OpenSSH the known_hosts line
// and plink the PuTTY host key entry, then connects with strict host key
// checking: each client must accept the server only through that line.
func TestHostKeyLinesSatisfyStrictClients(t *testing.T) {
	sshBin, err1 := exec.LookPath("ssh")
	plink, err2 := exec.LookPath("plink")
	keygen, err3 := exec.LookPath("ssh-keygen")
	if err1 != nil || err2 != nil || err3 != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("ssh, plink and ssh-keygen are needed (scripts/install-test-deps.sh)")
		}
		t.Skip("ssh, plink or ssh-keygen not installed")
	}
	dir := t.TempDir()
	clientKey := filepath.Join(dir, "id_ed25519")
	if out, err := exec.Command(keygen, "-q", "-t", "ed25519", "-N", "", "-f", clientKey).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	ppk := filepath.Join(dir, "id.ppk")
	if out, err := exec.Command("puttygen", clientKey, "-O", "private", "-o", ppk).CombinedOutput(); err != nil {
		t.Fatalf("puttygen: %v\n%s", err, out)
	}

	_, edPriv, _ := ed25519.GenerateKey(rand.Reader)
	rsaPriv, _ := rsa.GenerateKey(rand.Reader, 2048)
	ecPriv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	for _, c := range []struct {
		name string
		key  any
	}{{"ed25519", edPriv}, {"rsa", rsaPriv}, {"ecdsa", ecPriv}} {
		t.Run(c.name+" host key is trusted from its lines alone", func(t *testing.T) {
			signer, err := ssh.NewSignerFromKey(c.key)
			if err != nil {
				t.Fatal(err)
			}
			port := hostKeyServer(t, signer)
			home := t.TempDir()

			kh := filepath.Join(home, "known_hosts")
			if err := os.WriteFile(kh, []byte(KnownHostsLine("127.0.0.1", port, signer.PublicKey())+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(sshBin, "-F", "/dev/null", "-i", clientKey, "-p", strconv.Itoa(port), "-o", "StrictHostKeyChecking=yes",
				"-o", "UserKnownHostsFile="+kh, "-o", "GlobalKnownHostsFile=/dev/null", "-o", "BatchMode=yes", "-o", "HostKeyAlgorithms="+signer.PublicKey().Type()+",rsa-sha2-256,rsa-sha2-512",
				"x@127.0.0.1", "true")
			if out, err := runFor(cmd, 20*time.Second); err != nil {
				t.Errorf("ssh with the known_hosts line: %v\n%s", err, out)
			}

			name, value, err := PuTTYHostKey("127.0.0.1", port, signer.PublicKey())
			if err != nil {
				t.Fatal(err)
			}
			os.MkdirAll(filepath.Join(home, ".putty"), 0o700)
			if err := os.WriteFile(filepath.Join(home, ".putty", "sshhostkeys"), []byte(name+" "+value+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			cmd = exec.Command(plink, "-batch", "-ssh", "-P", strconv.Itoa(port), "-i", ppk, "x@127.0.0.1", "true")
			cmd.Env = append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"))
			if out, err := runFor(cmd, 20*time.Second); err != nil {
				t.Errorf("plink with %s %s in sshhostkeys: %v\n%s", name, value, err, out)
			}

			// And with an empty cache, through -hostkey with the fingerprint.
			os.Remove(filepath.Join(home, ".putty", "sshhostkeys"))
			cmd = exec.Command(plink, "-batch", "-ssh", "-P", strconv.Itoa(port), "-i", ppk, "-hostkey", ssh.FingerprintSHA256(signer.PublicKey()), "x@127.0.0.1", "true")
			cmd.Env = append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"))
			if out, err := runFor(cmd, 20*time.Second); err != nil {
				t.Errorf("plink -hostkey: %v\n%s", err, out)
			}
			// A strict plink without either must refuse, or the checks above prove nothing.
			cmd = exec.Command(plink, "-batch", "-ssh", "-P", strconv.Itoa(port), "-i", ppk, "x@127.0.0.1", "true")
			cmd.Env = append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"))
			if out, err := runFor(cmd, 20*time.Second); err == nil {
				t.Errorf("plink -batch connected to an unknown host key:\n%s", out)
			}
		})
	}
}

func runFor(cmd *exec.Cmd, d time.Duration) ([]byte, error) {
	cmd.Stdin = nil
	timer := time.AfterFunc(d, func() {
		if cmd.Process != nil {
			cmd.Process.Kill()
		}
	})
	defer timer.Stop()
	return cmd.CombinedOutput()
}
