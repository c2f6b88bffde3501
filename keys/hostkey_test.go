package keys

import (
	"crypto/ed25519"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/ssh"
)

func TestLoadHostKeyLoadsTheOldServersKeys(t *testing.T) {
	fps := readFingerprints(t)
	tests := []struct {
		file string
		typ  string
	}{
		{"rsa_openssh", "ssh-rsa"},
		{"rsa_pem", "ssh-rsa"},
		{"rsa_pkcs8", "ssh-rsa"},
		{"ecdsa256_openssh", "ecdsa-sha2-nistp256"},
		{"ecdsa384_pem", "ecdsa-sha2-nistp384"},
		{"ecdsa521_pkcs8", "ecdsa-sha2-nistp521"},
		{"ed25519_openssh", "ssh-ed25519"},
		{"ed25519_pkcs8", "ssh-ed25519"},
		{"dsa_pem", "ssh-dss"},
	}
	for _, tt := range tests {
		t.Run(tt.file+" loads with its ssh-keygen fingerprint", func(t *testing.T) {
			signer, err := LoadHostKey(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			info := Describe(signer.PublicKey())
			if info.Type != tt.typ {
				t.Errorf("type %s, want %s", info.Type, tt.typ)
			}
			if want := fps[tt.file+".pub"]; info.Fingerprint != want.fingerprint || info.Bits != want.bits {
				t.Errorf("got %d %s, want %d %s", info.Bits, info.Fingerprint, want.bits, want.fingerprint)
			}
		})
	}
}

func TestLoadHostKeySkipsECParameters(t *testing.T) {
	data := mustRead(t, "testdata/ecdsa384_pem")
	params := "-----BEGIN EC PARAMETERS-----\nBgUrgQQAIg==\n-----END EC PARAMETERS-----\n"
	path := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(path, []byte(params+data), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadHostKey(path); err != nil {
		t.Error(err)
	}
}

func TestLoadHostKeyRefusesWithClearErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	tests := []struct {
		name string
		path string
		want string
	}{
		{"a DSA key in OPENSSH format", "testdata/dsa_openssh", "convert a copy with ssh-keygen -p -m PEM"},
		{"an encrypted OPENSSH key", "testdata/ed25519_openssh_encrypted", "encrypted; remove the passphrase"},
		{"an encrypted PEM key", "testdata/rsa_pem_encrypted", "encrypted; remove the passphrase"},
		{"an encrypted PKCS#8 key", write("enc", "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n"), "encrypted"},
		{"a public key", "testdata/ed25519_openssh.pub", "a public key; give the private key file"},
		{"a .ppk file", "testdata/ed25519_v3.ppk", "puttygen KEY.ppk -O private-openssh"},
		{"an empty file", write("empty", ""), "no PEM-encoded private key found"},
		{"a missing file", filepath.Join(dir, "missing"), "no such file"},
		{"a huge file", write("huge", strings.Repeat("x", maxHostKeyFile+1)), "not a key"},
	}
	for _, tt := range tests {
		t.Run("refuses "+tt.name, func(t *testing.T) {
			signer, err := LoadHostKey(tt.path)
			if err == nil {
				t.Fatalf("LoadHostKey(%s) loaded a %s key", tt.path, signer.PublicKey().Type())
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("LoadHostKey(%s): error %q does not contain %q", tt.path, err, tt.want)
			}
		})
	}
}

func TestLoadOrCreateHostKeysKeepsItsKeys(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "hostkeys")
	first, err := LoadOrCreateHostKeys(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != 2 {
		t.Fatalf("got %d keys, want 2", len(first))
	}
	wantTypes := []struct {
		file string
		typ  string
		bits int
	}{
		{"ssh_host_ed25519_key", "ssh-ed25519", 256},
		{"ssh_host_rsa_key", "ssh-rsa", 3072},
	}
	for i, want := range wantTypes {
		info := Describe(first[i].PublicKey())
		if info.Type != want.typ || info.Bits != want.bits {
			t.Errorf("key %d: got %s %d bits, want %s %d bits", i, info.Type, info.Bits, want.typ, want.bits)
		}
		path := filepath.Join(dir, want.file)
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", want.file, st.Mode().Perm())
		}
		block, _ := pem.Decode([]byte(mustRead(t, path)))
		if block == nil || block.Type != "OPENSSH PRIVATE KEY" {
			t.Errorf("%s: not an OPENSSH PRIVATE KEY", want.file)
		}
		if out, err := exec.Command("ssh-keygen", "-l", "-f", path).Output(); err == nil {
			if !strings.Contains(string(out), info.Fingerprint) {
				t.Errorf("%s: ssh-keygen -l says %q, we say %s", want.file, out, info.Fingerprint)
			}
		}
	}
	if st, err := os.Stat(dir); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("dir: %v, %v; want mode 0700", st.Mode(), err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 2 {
		t.Errorf("dir holds %d files (%v), want just the 2 keys", len(entries), err)
	}

	second, err := LoadOrCreateHostKeys(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i := range first {
		a, b := ssh.FingerprintSHA256(first[i].PublicKey()), ssh.FingerprintSHA256(second[i].PublicKey())
		if a != b {
			t.Errorf("key %d changed between starts: %s, then %s", i, a, b)
		}
	}
}

func TestLoadOrCreateHostKeysNeverReplacesABrokenKey(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ssh_host_ed25519_key")
	if err := os.WriteFile(path, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateHostKeys(dir); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("got %v, want an error naming %s", err, path)
	}
	if got := mustRead(t, path); got != "garbage" {
		t.Errorf("the broken key was replaced")
	}
}

func TestLoadOrCreateHostKeysAgreesWhenStartedTwiceAtOnce(t *testing.T) {
	dir := t.TempDir()
	var (
		wg      sync.WaitGroup
		results [2][]ssh.Signer
		errs    [2]error
	)
	for i := range results {
		wg.Go(func() { results[i], errs[i] = LoadOrCreateHostKeys(dir) })
	}
	wg.Wait()
	for i := range errs {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
	}
	for k := range results[0] {
		if a, b := ssh.FingerprintSHA256(results[0][k].PublicKey()), ssh.FingerprintSHA256(results[1][k].PublicKey()); a != b {
			t.Errorf("key %d: the two starts got %s and %s", k, a, b)
		}
	}
}

func TestLoadHostKeyReportsMissingFilesAsNotExist(t *testing.T) {
	_, err := LoadHostKey(filepath.Join(t.TempDir(), "nope"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("got %v, want fs.ErrNotExist", err)
	}
}

// TestLoadHostKeyMatchesPKCS8Ed25519 checks the PKCS#8 Ed25519 fixture, whose
// .pub generate.sh builds without ssh-keygen, against crypto/x509.
func TestLoadHostKeyMatchesPKCS8Ed25519(t *testing.T) {
	block, _ := pem.Decode([]byte(mustRead(t, "testdata/ed25519_pkcs8")))
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	want, err := ssh.NewPublicKey(key.(ed25519.PrivateKey).Public())
	if err != nil {
		t.Fatal(err)
	}
	signer := loadTestSigner(t, "ed25519_pkcs8")
	if got := ssh.FingerprintSHA256(signer.PublicKey()); got != ssh.FingerprintSHA256(want) {
		t.Errorf("got %s, want %s", got, ssh.FingerprintSHA256(want))
	}
}
