// Package keys parses the SSH keys that backupreport meets: customers' public
// keys as OpenSSH lines, RFC 4716 blocks and PuTTY .ppk files, the old
// server's authorized_keys file, and the server's own host keys. It also
// parses the report path that customers' backup.bat writes to.
//
// It imports only the standard library and golang.org/x/crypto/ssh, which is
// pinned at v0.58.0, the last release that speaks ssh-dss.
package keys

import (
	"bytes"
	"crypto/dsa" // deprecated, but customers' ssh.exe still signs with DSA
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/ssh"
)

// Info describes a public key in the terms staff and ssh-keygen use.
type Info struct {
	// Type is the key's SSH type, such as "ssh-dss", "ssh-rsa",
	// "ecdsa-sha2-nistp256" or "ssh-ed25519".
	Type string
	// Bits is the key size as ssh-keygen -l prints it (256 for Ed25519), or
	// 0 for a type whose size this package does not know.
	Bits int
	// Fingerprint is ssh.FingerprintSHA256, e.g. "SHA256:J2NI2+D+...".
	Fingerprint string
	// Comment is the comment that came with the key, if any.
	Comment string
	// Authorized is the key's canonical authorized_keys line, without
	// options or comment: the form to store and compare.
	Authorized string
}

// ErrPrivateKey is returned by ParsePublicKey when it is given a private key.
var ErrPrivateKey = errors.New("private key given; paste the public key")

// maxPublicKeyInput bounds what ParsePublicKey reads. The largest public keys
// in use (RSA 16384) take under 3 KB; a .ppk file with its private part under
// 20 KB.
const maxPublicKeyInput = 64 << 10

const (
	rfc4716Begin = "---- BEGIN SSH2 PUBLIC KEY ----"
	rfc4716End   = "---- END SSH2 PUBLIC KEY ----"
	ppkPrefix    = "PuTTY-User-Key-File-"
)

// ParsePublicKey parses one public key in any of the forms customers send:
//   - an OpenSSH line ("ssh-ed25519 AAAA... comment"), with or without
//     authorized_keys options, which are ignored;
//   - an RFC 4716 block ("---- BEGIN SSH2 PUBLIC KEY ----"), as PuTTYgen
//     exports it, including header lines continued with a backslash;
//   - a PuTTY .ppk file, version 2 or 3, of which only the public lines are
//     read: the private part, encrypted or not, is never decoded.
//
// A private key is refused with ErrPrivateKey, and OpenSSH certificates are
// refused too. Every other error starts with "not a public key:". A UTF-8
// byte order mark and CRLF line ends are accepted. ParsePublicKey does not
// judge the key's strength: 1024-bit DSA and short RSA keys parse.
func ParsePublicKey(data []byte) (ssh.PublicKey, Info, error) {
	if len(data) > maxPublicKeyInput {
		return nil, Info{}, fmt.Errorf("not a public key: %d bytes is far more than a key", len(data))
	}
	text := strings.TrimSpace(string(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))))
	lines := splitLines(text)

	var (
		pk      ssh.PublicKey
		comment string
		err     error
	)
	switch {
	case text == "":
		return nil, Info{}, errors.New("not a public key: empty input")
	case isPrivateKey(lines):
		return nil, Info{}, ErrPrivateKey
	case strings.HasPrefix(text, ppkPrefix):
		pk, comment, err = parsePPK(lines)
	case strings.HasPrefix(text, rfc4716Begin):
		pk, comment, err = parseRFC4716(lines)
	case strings.HasPrefix(text, "-----BEGIN "):
		return nil, Info{}, fmt.Errorf("not a public key: a PEM %q block; convert it with ssh-keygen -i -m PKCS8 -f FILE",
			strings.Trim(strings.TrimPrefix(lines[0], "-----BEGIN "), "- "))
	default:
		pk, comment, err = parseOpenSSHLine(lines)
	}
	if err != nil {
		return nil, Info{}, err
	}
	if _, ok := pk.(*ssh.Certificate); ok {
		return nil, Info{}, errors.New("not a public key: an OpenSSH certificate; paste the plain public key")
	}
	info := Describe(pk)
	info.Comment = comment
	return pk, info, nil
}

// Describe returns what is known about pk without its comment. For a
// certificate, Bits describes the certified key.
func Describe(pk ssh.PublicKey) Info {
	return Info{
		Type:        pk.Type(),
		Bits:        keyBits(pk),
		Fingerprint: ssh.FingerprintSHA256(pk),
		Authorized:  strings.TrimSuffix(string(ssh.MarshalAuthorizedKey(pk)), "\n"),
	}
}

func keyBits(pk ssh.PublicKey) int {
	if c, ok := pk.(*ssh.Certificate); ok {
		pk = c.Key
	}
	cpk, ok := pk.(ssh.CryptoPublicKey)
	if !ok {
		return 0
	}
	switch k := cpk.CryptoPublicKey().(type) {
	case *rsa.PublicKey:
		return k.N.BitLen()
	case *dsa.PublicKey:
		return k.P.BitLen()
	case *ecdsa.PublicKey:
		return k.Curve.Params().BitSize
	case ed25519.PublicKey:
		return 256
	}
	return 0
}

// splitLines splits text into lines without their CR or LF.
func splitLines(text string) []string {
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSuffix(l, "\r")
	}
	return lines
}

// isPrivateKey reports whether lines hold a private key in a form other than
// .ppk (whose public part is all we read).
func isPrivateKey(lines []string) bool {
	for _, l := range lines {
		l = strings.TrimSpace(l)
		if (strings.HasPrefix(l, "-----BEGIN ") || strings.HasPrefix(l, "---- BEGIN ")) && strings.Contains(l, "PRIVATE KEY") {
			return true
		}
		if strings.HasPrefix(l, "SSH PRIVATE KEY FILE FORMAT") { // SSH-1 and old PuTTY
			return true
		}
	}
	return false
}

func parseOpenSSHLine(lines []string) (ssh.PublicKey, string, error) {
	var keyLines []string
	for _, l := range lines {
		l = strings.TrimSpace(l)
		if l != "" && !strings.HasPrefix(l, "#") {
			keyLines = append(keyLines, l)
		}
	}
	switch len(keyLines) {
	case 0:
		return nil, "", errors.New("not a public key: only comments")
	case 1:
	default:
		return nil, "", fmt.Errorf("not a public key: %d lines; give one key on one line", len(keyLines))
	}
	pk, comment, _, _, err := ssh.ParseAuthorizedKey([]byte(keyLines[0]))
	if err != nil {
		return nil, "", fmt.Errorf("not a public key: %w", err)
	}
	return pk, comment, nil
}

// parseRFC4716 parses an RFC 4716 "SSH2 PUBLIC KEY" block. Header lines are
// "Tag: value"; a line ending in a backslash continues on the next one.
func parseRFC4716(lines []string) (ssh.PublicKey, string, error) {
	var (
		comment string
		body    strings.Builder
		ended   bool
		i       = 1
	)
	for ; i < len(lines); i++ {
		l := strings.TrimSpace(lines[i])
		if l == rfc4716End {
			ended = true
			i++
			break
		}
		if body.Len() == 0 && strings.Contains(l, ":") {
			header := l
			for strings.HasSuffix(header, `\`) && i+1 < len(lines) {
				i++
				header = strings.TrimSuffix(header, `\`) + strings.TrimSpace(lines[i])
			}
			tag, value, _ := strings.Cut(header, ":")
			if strings.EqualFold(strings.TrimSpace(tag), "Comment") {
				value = strings.TrimSpace(value)
				if len(value) >= 2 && value[0] == '"' && value[len(value)-1] == '"' {
					value = value[1 : len(value)-1]
				}
				comment = value
			}
			continue
		}
		body.WriteString(l)
	}
	if !ended {
		return nil, "", errors.New("not a public key: RFC 4716 block without its END line")
	}
	for ; i < len(lines); i++ {
		if strings.TrimSpace(lines[i]) != "" {
			return nil, "", errors.New("not a public key: text after the RFC 4716 END line; give one key")
		}
	}
	pk, err := parseBlob(body.String())
	if err != nil {
		return nil, "", fmt.Errorf("not a public key: RFC 4716 block: %w", err)
	}
	return pk, comment, nil
}

// parsePPK reads the public part of a PuTTY .ppk file:
//
//	PuTTY-User-Key-File-3: ssh-ed25519
//	Encryption: none
//	Comment: eddsa-key-20240101
//	Public-Lines: 2
//	AAAA...
//
// What follows the public lines (the private part) is not looked at.
func parsePPK(lines []string) (ssh.PublicKey, string, error) {
	version, algo, _ := strings.Cut(lines[0], ":")
	version = strings.TrimPrefix(version, ppkPrefix)
	algo = strings.TrimSpace(algo)
	if version != "2" && version != "3" {
		return nil, "", fmt.Errorf("not a public key: PuTTY key file version %q is not supported; save it again with a recent PuTTYgen", version)
	}
	var comment string
	for i := 1; i < len(lines); i++ {
		tag, value, ok := strings.Cut(lines[i], ": ")
		if !ok {
			return nil, "", fmt.Errorf("not a public key: .ppk line %d is not a header", i+1)
		}
		switch tag {
		case "Comment":
			comment = value
		case "Public-Lines":
			n, err := strconv.Atoi(value)
			if err != nil || n < 1 || n > len(lines)-i-1 {
				return nil, "", fmt.Errorf("not a public key: .ppk has a bad Public-Lines count %q", value)
			}
			pk, err := parseBlob(strings.Join(lines[i+1:i+1+n], ""))
			if err != nil {
				return nil, "", fmt.Errorf("not a public key: .ppk public lines: %w", err)
			}
			if pk.Type() != algo {
				return nil, "", fmt.Errorf("not a public key: .ppk says %q but holds a %q key", algo, pk.Type())
			}
			return pk, comment, nil
		}
	}
	return nil, "", errors.New("not a public key: .ppk file without Public-Lines")
}

// parseBlob decodes a base64 SSH wire-format public key.
func parseBlob(b64 string) (ssh.PublicKey, error) {
	blob, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
	if err != nil {
		return nil, fmt.Errorf("bad base64: %w", err)
	}
	return ssh.ParsePublicKey(blob)
}
