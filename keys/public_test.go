package keys

import (
	"bufio"
	"crypto/rand"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

// fingerprint is one line of testdata/fingerprints.txt, which generate.sh
// fills with ssh-keygen -l output for each .pub file.
type fingerprint struct {
	bits        int
	fingerprint string
	comment     string
}

func readFingerprints(t *testing.T) map[string]fingerprint {
	t.Helper()
	f, err := os.Open("testdata/fingerprints.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fps := make(map[string]fingerprint)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// dsa_pem.pub 1024 SHA256:... dsa-fixture (DSA)
		fields := strings.Fields(sc.Text())
		if len(fields) < 4 {
			t.Fatalf("fingerprints.txt: bad line %q", sc.Text())
		}
		bits, err := strconv.Atoi(fields[1])
		if err != nil {
			t.Fatalf("fingerprints.txt: bad line %q", sc.Text())
		}
		fps[fields[0]] = fingerprint{bits, fields[2], strings.Join(fields[3:len(fields)-1], " ")}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return fps
}

func TestParsePublicKeyAcceptsEveryExport(t *testing.T) {
	fps := readFingerprints(t)
	tests := []struct {
		file    string
		pub     string // .pub of the same key, whose fingerprint is recorded
		typ     string
		comment string
	}{
		{"dsa_pem.pub", "dsa_pem.pub", "ssh-dss", "dsa-fixture"},
		{"dsa_openssh.pub", "dsa_openssh.pub", "ssh-dss", "dsa-fixture"},
		{"rsa_openssh.pub", "rsa_openssh.pub", "ssh-rsa", "rsa-fixture"},
		{"rsa_pem.pub", "rsa_pem.pub", "ssh-rsa", "rsa-fixture"},
		{"ecdsa256_openssh.pub", "ecdsa256_openssh.pub", "ecdsa-sha2-nistp256", "ecdsa-fixture"},
		{"ecdsa384_pem.pub", "ecdsa384_pem.pub", "ecdsa-sha2-nistp384", "ecdsa-fixture"},
		{"ecdsa521_pkcs8.pub", "ecdsa521_pkcs8.pub", "ecdsa-sha2-nistp521", "ecdsa-fixture"},
		{"ed25519_openssh.pub", "ed25519_openssh.pub", "ssh-ed25519", "ed25519-fixture"},
		{"rsa_v2.ppk", "rsa_openssh.pub", "ssh-rsa", "rsa-fixture"},
		{"rsa_v3.ppk", "rsa_openssh.pub", "ssh-rsa", "rsa-fixture exported by PuTTYgen with a comment long enough to be continued"},
		{"dsa_v2.ppk", "dsa_pem.pub", "ssh-dss", "dsa-fixture"},
		{"ecdsa256_v2.ppk", "ecdsa256_openssh.pub", "ecdsa-sha2-nistp256", "ecdsa-fixture"},
		{"ed25519_v3.ppk", "ed25519_openssh.pub", "ssh-ed25519", "ed25519-fixture"},
		{"ed25519_v3_encrypted.ppk", "ed25519_openssh.pub", "ssh-ed25519", "ed25519-fixture"},
		{"rsa.rfc4716", "rsa_openssh.pub", "ssh-rsa", "rsa-fixture exported by PuTTYgen with a comment long enough to be continued"},
		{"rsa_continued.rfc4716", "rsa_openssh.pub", "ssh-rsa", "rsa-fixture with a Comment header continued over two lines"},
		{"dsa.rfc4716", "dsa_pem.pub", "ssh-dss", "dsa-fixture"},
		{"ed25519.rfc4716", "ed25519_openssh.pub", "ssh-ed25519", "ed25519-fixture"},
	}
	for _, tt := range tests {
		data, err := os.ReadFile(filepath.Join("testdata", tt.file))
		if err != nil {
			t.Fatal(err)
		}
		want, ok := fps[tt.pub]
		if !ok {
			t.Fatalf("fingerprints.txt has no %s", tt.pub)
		}
		variants := map[string][]byte{
			"as written":              data,
			"with CRLF line ends":     []byte(strings.ReplaceAll(string(data), "\n", "\r\n")),
			"with a byte order mark":  append([]byte("\xef\xbb\xbf"), data...),
			"with blank lines around": []byte("\n\n  " + string(data) + "\n\n"),
		}
		for name, input := range variants {
			t.Run(tt.file+" "+name+" parses", func(t *testing.T) {
				pk, info, err := ParsePublicKey(input)
				if err != nil {
					t.Fatalf("ParsePublicKey(%s): %v", tt.file, err)
				}
				if info.Type != tt.typ || pk.Type() != tt.typ {
					t.Errorf("type: got %q (key %q), want %q", info.Type, pk.Type(), tt.typ)
				}
				if info.Fingerprint != want.fingerprint {
					t.Errorf("fingerprint: got %s, want %s (ssh-keygen -l %s)", info.Fingerprint, want.fingerprint, tt.pub)
				}
				if info.Bits != want.bits {
					t.Errorf("bits: got %d, want %d", info.Bits, want.bits)
				}
				if info.Comment != tt.comment {
					t.Errorf("comment: got %q, want %q", info.Comment, tt.comment)
				}
				pubLine, err := os.ReadFile(filepath.Join("testdata", tt.pub))
				if err != nil {
					t.Fatal(err)
				}
				if wantAuth := strings.Join(strings.Fields(string(pubLine))[:2], " "); info.Authorized != wantAuth {
					t.Errorf("authorized: got %q, want %q", info.Authorized, wantAuth)
				}
			})
		}
	}
}

func TestParsePublicKeyAcceptsOptionsAndNoComment(t *testing.T) {
	line, err := os.ReadFile("testdata/ed25519_openssh.pub")
	if err != nil {
		t.Fatal(err)
	}
	bare := strings.Join(strings.Fields(string(line))[:2], " ")
	for _, input := range []string{
		bare,
		`no-pty,command="cat > /reports/a/b.out" ` + bare + " with comment",
		"# a comment line first\n" + bare,
	} {
		_, info, err := ParsePublicKey([]byte(input))
		if err != nil {
			t.Errorf("ParsePublicKey(%q): %v", input, err)
			continue
		}
		if info.Authorized != bare {
			t.Errorf("ParsePublicKey(%q): authorized %q, want %q", input, info.Authorized, bare)
		}
	}
}

func TestParsePublicKeyRefusesWithClearErrors(t *testing.T) {
	read := func(name string) string {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	rsaPub := read("rsa_openssh.pub")
	tests := []struct {
		name  string
		input string
		want  string // substring of the error
	}{
		{"an empty input", "", "not a public key: empty input"},
		{"only blanks", " \r\n\t\n", "not a public key: empty input"},
		{"only a comment", "# nothing here", "not a public key: only comments"},
		{"an OpenSSH private key", read("ed25519_openssh"), "private key given; paste the public key"},
		{"an encrypted OpenSSH private key", read("ed25519_openssh_encrypted"), "private key given"},
		{"a PEM RSA private key", read("rsa_pem"), "private key given"},
		{"a PKCS#8 private key", read("rsa_pkcs8"), "private key given"},
		{"a PEM DSA private key", read("dsa_pem"), "private key given"},
		{"a private key pasted after its public key", rsaPub + read("rsa_openssh"), "private key given"},
		{"an SSH.com private key", "---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----\nP2/56wAAA\n---- END SSH2 ENCRYPTED PRIVATE KEY ----", "private key given"},
		{"a PEM public key", "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----\n", `not a public key: a PEM "PUBLIC KEY" block; convert it with ssh-keygen -i -m PKCS8`},
		{"two keys", rsaPub + read("ed25519_openssh.pub"), "not a public key: 2 lines; give one key on one line"},
		{"a key cut in two lines", rsaPub[:200] + "\n" + rsaPub[200:], "not a public key: 2 lines"},
		{"bad base64", "ssh-ed25519 AAAA!!!! me", "not a public key:"},
		{"a type that lies", "ssh-rsa " + strings.Fields(read("ed25519_openssh.pub"))[1], "not a public key:"},
		{"plain text", "hello world", "not a public key:"},
		{"an RFC 4716 block without END", strings.Replace(read("rsa.rfc4716"), "---- END SSH2 PUBLIC KEY ----", "", 1), "without its END line"},
		{"two RFC 4716 blocks", read("rsa.rfc4716") + read("ed25519.rfc4716"), "text after the RFC 4716 END line"},
		{"an RFC 4716 block with bad base64", "---- BEGIN SSH2 PUBLIC KEY ----\nAAAA*\n---- END SSH2 PUBLIC KEY ----", "RFC 4716 block: bad base64"},
		{"a .ppk without Public-Lines", "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: x\n", ".ppk file without Public-Lines"},
		{"a .ppk whose Public-Lines overruns the file", "PuTTY-User-Key-File-2: ssh-rsa\nPublic-Lines: 99\nAAAA\n", "bad Public-Lines count"},
		{"a .ppk whose header lies", strings.Replace(read("ed25519_v3.ppk"), "File-3: ssh-ed25519", "File-3: ssh-rsa", 1), `.ppk says "ssh-rsa" but holds a "ssh-ed25519" key`},
		{"a .ppk of an unknown version", strings.Replace(read("ed25519_v3.ppk"), "File-3", "File-9", 1), `PuTTY key file version "9" is not supported`},
		{"an SSH-1 key", "SSH PRIVATE KEY FILE FORMAT 1.1\n", "private key given"},
		{"an input far too large", strings.Repeat("A", maxPublicKeyInput+1), "far more than a key"},
	}
	for _, tt := range tests {
		t.Run("refuses "+tt.name, func(t *testing.T) {
			pk, _, err := ParsePublicKey([]byte(tt.input))
			if err == nil {
				t.Fatalf("ParsePublicKey accepted it as %s", pk.Type())
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
	t.Run("private keys give ErrPrivateKey", func(t *testing.T) {
		_, _, err := ParsePublicKey([]byte(read("rsa_openssh")))
		if !errors.Is(err, ErrPrivateKey) {
			t.Errorf("got %v, want ErrPrivateKey", err)
		}
	})
}

func TestParsePublicKeyRefusesCertificates(t *testing.T) {
	signer := loadTestSigner(t, "ed25519_openssh")
	cert := &ssh.Certificate{
		Key:             signer.PublicKey(),
		CertType:        ssh.UserCert,
		ValidPrincipals: []string{"x"},
		ValidBefore:     ssh.CertTimeInfinity,
	}
	if err := cert.SignCert(rand.Reader, signer); err != nil {
		t.Fatal(err)
	}
	_, _, err := ParsePublicKey(ssh.MarshalAuthorizedKey(cert))
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("got %v, want a certificate error", err)
	}
}

// TestFingerprintsMatchSSHKeygen checks the recorded fingerprints against
// the installed ssh-keygen, when there is one.
func TestFingerprintsMatchSSHKeygen(t *testing.T) {
	keygen, err := exec.LookPath("ssh-keygen")
	if err != nil {
		t.Skip("ssh-keygen not installed")
	}
	for file, want := range readFingerprints(t) {
		t.Run(file+" matches ssh-keygen -l", func(t *testing.T) {
			out, err := exec.Command(keygen, "-l", "-f", filepath.Join("testdata", file)).Output()
			if err != nil {
				t.Skipf("ssh-keygen -l %s: %v", file, err)
			}
			data, err := os.ReadFile(filepath.Join("testdata", file))
			if err != nil {
				t.Fatal(err)
			}
			_, info, err := ParsePublicKey(data)
			if err != nil {
				t.Fatal(err)
			}
			fields := strings.Fields(string(out))
			if len(fields) < 2 || fields[1] != info.Fingerprint || fields[0] != strconv.Itoa(info.Bits) {
				t.Errorf("ssh-keygen says %q; we say %d %s", out, info.Bits, info.Fingerprint)
			}
			if info.Fingerprint != want.fingerprint {
				t.Errorf("fingerprints.txt says %s; we say %s", want.fingerprint, info.Fingerprint)
			}
		})
	}
}

func loadTestSigner(t *testing.T, name string) ssh.Signer {
	t.Helper()
	signer, err := LoadHostKey(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return signer
}
