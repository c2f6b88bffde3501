package keys

import (
	"crypto/rand"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// The tests in this file fail if golang.org/x/crypto loses ssh-dss, as
// v0.59.0 did. Customers' cwRsync ssh.exe signs with DSA keys (id_dsa.txt),
// so go.mod pins v0.58.0: do not "fix" these tests by upgrading past it.

func TestDSAPublicKeyStillParses(t *testing.T) {
	line, err := os.ReadFile("testdata/dsa_pem.pub")
	if err != nil {
		t.Fatal(err)
	}
	pk, _, _, _, err := ssh.ParseAuthorizedKey(line)
	if err != nil {
		t.Fatalf("x/crypto no longer parses ssh-dss authorized_keys lines: %v", err)
	}
	if pk.Type() != ssh.InsecureKeyAlgoDSA {
		t.Fatalf("got %s, want ssh-dss", pk.Type())
	}
	entries, problems, err := ParseAuthorizedKeys(strings.NewReader(`command="cat > /reports/acme/exch01.out" ` + string(line)))
	if err != nil || len(problems) != 0 || len(entries) != 1 || entries[0].Info.Type != "ssh-dss" {
		t.Fatalf("ParseAuthorizedKeys lost the DSA key: %+v, %+v, %v", entries, problems, err)
	}
}

func TestDSAPrivateKeyStillSignsAndVerifies(t *testing.T) {
	pemBytes, err := os.ReadFile("testdata/dsa_pem")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.ParsePrivateKey(pemBytes)
	if err != nil {
		t.Fatalf("x/crypto no longer loads PEM DSA keys: %v", err)
	}
	line, err := os.ReadFile("testdata/dsa_pem.pub")
	if err != nil {
		t.Fatal(err)
	}
	pub, _, _, _, err := ssh.ParseAuthorizedKey(line)
	if err != nil {
		t.Fatal(err)
	}
	data := []byte("type c:\\stats.out | ssh.exe -i e:\\atc\\id_dsa.txt")
	sig, err := signer.Sign(rand.Reader, data)
	if err != nil {
		t.Fatalf("sign with DSA: %v", err)
	}
	if sig.Format != ssh.InsecureKeyAlgoDSA {
		t.Errorf("signature format %s, want ssh-dss", sig.Format)
	}
	if err := pub.Verify(data, sig); err != nil {
		t.Fatalf("verify a DSA signature: %v", err)
	}
	if err := pub.Verify([]byte("something else"), sig); err == nil {
		t.Fatal("a DSA signature verified over other data")
	}
}

// TestDSAClientLogsInWithDefaultServerConfig runs an SSH handshake in memory:
// a client signing with the DSA key against a server with x/crypto's default
// algorithms, as backupreport serve uses them.
func TestDSAClientLogsInWithDefaultServerConfig(t *testing.T) {
	clientKey := loadTestSigner(t, "dsa_pem")
	hostKey := loadTestSigner(t, "ed25519_openssh")

	var gotKey ssh.PublicKey
	config := &ssh.ServerConfig{
		PublicKeyCallback: func(_ ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			gotKey = key
			return nil, nil
		},
	}
	config.AddHostKey(hostKey)

	// Not net.Pipe: both sides write their version line at once.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	serverErr := make(chan error, 1)
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			serverErr <- err
			return
		}
		defer nc.Close()
		conn, chans, reqs, err := ssh.NewServerConn(nc, config)
		if err == nil {
			go ssh.DiscardRequests(reqs)
			go func() {
				for c := range chans {
					c.Reject(ssh.Prohibited, "test")
				}
			}()
			err = conn.Wait()
		}
		serverErr <- err
	}()

	clientConn, err := net.DialTimeout("tcp", ln.Addr().String(), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer clientConn.Close()
	clientConn.SetDeadline(time.Now().Add(30 * time.Second))
	client, _, _, err := ssh.NewClientConn(clientConn, "pipe", &ssh.ClientConfig{
		User:            "backup",
		Auth:            []ssh.AuthMethod{ssh.PublicKeys(clientKey)},
		HostKeyCallback: ssh.FixedHostKey(hostKey.PublicKey()),
	})
	if err != nil {
		t.Fatalf("a DSA client can no longer log in: %v", err)
	}
	client.Close()
	<-serverErr
	if gotKey == nil || gotKey.Type() != ssh.InsecureKeyAlgoDSA {
		t.Errorf("server saw key %v, want ssh-dss", gotKey)
	}
}
