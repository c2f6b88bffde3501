package keys

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/crypto/ssh"
)

// maxHostKeyFile bounds what LoadHostKey reads; an RSA 16384 key is 12 KB.
const maxHostKeyFile = 1 << 20

// LoadHostKey loads an unencrypted SSH private key to serve as a host key:
// RSA (PEM PKCS#1, PKCS#8 or OPENSSH), ECDSA (PEM SEC 1, PKCS#8 or OPENSSH),
// Ed25519 (PKCS#8 or OPENSSH) and DSA (PEM only: x/crypto reads no OPENSSH
// DSA key; the error says how to convert one). Its fingerprint is the one
// ssh-keygen -l prints, so clients' known_hosts entries keep matching.
// Encrypted keys, public keys and .ppk files are refused with an error that
// says what to do.
func LoadHostKey(path string) (ssh.Signer, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load host key: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxHostKeyFile+1))
	if err != nil {
		return nil, fmt.Errorf("load host key: %w", err)
	}
	if len(data) > maxHostKeyFile {
		return nil, fmt.Errorf("load host key %s: over %d bytes, not a key", path, maxHostKeyFile)
	}
	signer, err := parseHostKey(data)
	if err != nil {
		return nil, fmt.Errorf("load host key %s: %w", path, err)
	}
	return signer, nil
}

func parseHostKey(data []byte) (ssh.Signer, error) {
	var block *pem.Block
	for rest := data; ; {
		block, rest = pem.Decode(rest)
		// openssl ecparam -genkey writes the curve's parameters first.
		if block == nil || block.Type != "EC PARAMETERS" {
			break
		}
	}
	if block == nil {
		if bytes.HasPrefix(bytes.TrimSpace(data), []byte(ppkPrefix)) {
			return nil, errors.New("a PuTTY .ppk file; convert a copy with puttygen KEY.ppk -O private-openssh -o KEY")
		}
		if _, _, err := ParsePublicKey(data); err == nil {
			return nil, errors.New("a public key; give the private key file (without .pub)")
		}
		return nil, errors.New("no PEM-encoded private key found")
	}
	switch block.Type {
	case "ENCRYPTED PRIVATE KEY":
		return nil, errEncrypted
	case "OPENSSH PRIVATE KEY":
		if openSSHKeyType(block.Bytes) == ssh.InsecureKeyAlgoDSA {
			return nil, errors.New("a DSA key in OPENSSH format, which cannot be loaded; convert a copy with ssh-keygen -p -m PEM -f COPY (the fingerprint stays the same)")
		}
	}
	signer, err := ssh.ParsePrivateKey(pem.EncodeToMemory(block))
	var missing *ssh.PassphraseMissingError
	if errors.As(err, &missing) {
		return nil, errEncrypted
	}
	return signer, err
}

var errEncrypted = errors.New("encrypted; remove the passphrase from a copy with ssh-keygen -p -N '' -f COPY")

// openSSHKeyType returns the key type named in the unencrypted public part of
// an "openssh-key-v1" private key, or "".
func openSSHKeyType(der []byte) string {
	const magic = "openssh-key-v1\x00"
	rest, ok := bytes.CutPrefix(der, []byte(magic))
	if !ok {
		return ""
	}
	var w struct {
		CipherName, KdfName, KdfOpts string
		NumKeys                      uint32
		PubKey                       []byte
		Rest                         []byte `ssh:"rest"`
	}
	if err := ssh.Unmarshal(rest, &w); err != nil || len(w.PubKey) < 4 {
		return ""
	}
	n := binary.BigEndian.Uint32(w.PubKey)
	if uint64(n) > uint64(len(w.PubKey)-4) {
		return ""
	}
	return string(w.PubKey[4 : 4+n])
}

// hostKeyFiles are the keys LoadOrCreateHostKeys keeps, in the order they are
// offered: Ed25519 for current clients, RSA 3072 for old ones.
var hostKeyFiles = []struct {
	name     string
	generate func() (crypto.PrivateKey, error)
}{
	{"ssh_host_ed25519_key", func() (crypto.PrivateKey, error) {
		_, k, err := ed25519.GenerateKey(rand.Reader)
		return k, err
	}},
	{"ssh_host_rsa_key", func() (crypto.PrivateKey, error) {
		return rsa.GenerateKey(rand.Reader, 3072)
	}},
}

// LoadOrCreateHostKeys returns the server's own host keys, an Ed25519 key and
// an RSA 3072 key kept in dir as ssh_host_ed25519_key and ssh_host_rsa_key
// (OpenSSH format, mode 0600). A missing key is generated and saved before it
// is loaded, so fingerprints stay the same from one start to the next. dir is
// created (mode 0700) if needed. A key file that exists but does not load is
// an error, never replaced. Two processes starting at once on an empty dir
// end up with the same keys.
func LoadOrCreateHostKeys(dir string) ([]ssh.Signer, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("host keys: %w", err)
	}
	var signers []ssh.Signer
	for _, hk := range hostKeyFiles {
		path := filepath.Join(dir, hk.name)
		signer, err := LoadHostKey(path)
		if errors.Is(err, fs.ErrNotExist) {
			if err := createHostKey(path, hk.generate); err != nil {
				return nil, fmt.Errorf("create host key %s: %w", path, err)
			}
			signer, err = LoadHostKey(path)
		}
		if err != nil {
			return nil, err
		}
		signers = append(signers, signer)
	}
	return signers, nil
}

// createHostKey generates a key and saves it at path unless path exists by
// then. The key is written to a temporary file first and linked into place,
// so path never holds half a key.
func createHostKey(path string, generate func() (crypto.PrivateKey, error)) error {
	key, err := generate()
	if err != nil {
		return err
	}
	block, err := ssh.MarshalPrivateKey(key, "backupreport host key")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-*") // mode 0600
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := pem.Encode(tmp, block); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return nil
}
