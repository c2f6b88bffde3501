package keys

import (
	"crypto/dsa" // old servers' DSA host keys, in PuTTY's form
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"errors"
	"fmt"
	"math/big"
	"net"
	"strconv"
	"strings"

	"golang.org/x/crypto/ssh"
)

// KnownHostsLine is the line for OpenSSH's known_hosts that makes a client
// trust pk for host on port: "[host]:port ssh-ed25519 AAAA..." (plain
// "host" on port 22), as ssh-keyscan prints it, unhashed.
func KnownHostsLine(host string, port int, pk ssh.PublicKey) string {
	return knownHostsName(host, port) + " " + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pk)))
}

func knownHostsName(host string, port int) string {
	if port == 22 || port == 0 {
		if strings.Contains(host, ":") {
			return "[" + host + "]"
		}
		return host
	}
	return "[" + host + "]:" + strconv.Itoa(port)
}

// PuTTYHostKey is how PuTTY and plink store a trusted host key: name is
// "ssh-ed25519@2222:host" (the entry's name in the registry's
// SshHostKeys or in ~/.putty/sshhostkeys) and value is the key's numbers
// in hex, "0x…,0x…" (for ECDSA after the curve's name, "nistp256,0x…,0x…").
// A line "name value" in ~/.putty/sshhostkeys makes
// plink trust the key without asking.
func PuTTYHostKey(host string, port int, pk ssh.PublicKey) (name, value string, err error) {
	if port == 0 {
		port = 22
	}
	ck, ok := pk.(ssh.CryptoPublicKey)
	if !ok {
		return "", "", fmt.Errorf("putty host key: %s keys have no PuTTY form", pk.Type())
	}
	var typ string
	var nums []*big.Int
	switch k := ck.CryptoPublicKey().(type) {
	case *rsa.PublicKey:
		typ, nums = "rsa2", []*big.Int{big.NewInt(int64(k.E)), k.N}
	case *dsa.PublicKey:
		typ, nums = "dss", []*big.Int{k.P, k.Q, k.G, k.Y}
	case *ecdsa.PublicKey:
		typ = pk.Type()
		ecdh, err := k.ECDH()
		if err != nil {
			return "", "", fmt.Errorf("putty host key: %w", err)
		}
		b := ecdh.Bytes() // 0x04 || X || Y
		n := (len(b) - 1) / 2
		nums = []*big.Int{new(big.Int).SetBytes(b[1 : 1+n]), new(big.Int).SetBytes(b[1+n:])}
	case ed25519.PublicKey:
		typ = pk.Type()
		x, y, err := ed25519Point(k)
		if err != nil {
			return "", "", err
		}
		nums = []*big.Int{x, y}
	default:
		return "", "", fmt.Errorf("putty host key: %s keys have no PuTTY form", pk.Type())
	}
	var hex []string
	if curve, ok := strings.CutPrefix(typ, "ecdsa-sha2-"); ok {
		hex = append(hex, curve) // PuTTY names the curve first
	}
	for _, n := range nums {
		hex = append(hex, "0x"+n.Text(16))
	}
	if strings.Contains(host, ":") && net.ParseIP(host) != nil {
		host = "[" + host + "]"
	}
	return typ + "@" + strconv.Itoa(port) + ":" + host, strings.Join(hex, ","), nil
}

// ed25519Point decodes an Ed25519 public key (RFC 8032, 5.1.3) into the
// affine coordinates of its point, which is what PuTTY stores.
func ed25519Point(pub ed25519.PublicKey) (x, y *big.Int, err error) {
	if len(pub) != ed25519.PublicKeySize {
		return nil, nil, errors.New("putty host key: bad ed25519 key length")
	}
	p := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 255), big.NewInt(19))
	le := make([]byte, 32)
	for i := range le {
		le[i] = pub[31-i]
	}
	sign := le[0] >> 7
	le[0] &= 0x7f
	y = new(big.Int).SetBytes(le)
	if y.Cmp(p) >= 0 {
		return nil, nil, errors.New("putty host key: ed25519 key is not a point")
	}
	// d = -121665/121666 mod p
	d := new(big.Int).Mul(big.NewInt(-121665), new(big.Int).ModInverse(big.NewInt(121666), p))
	d.Mod(d, p)
	y2 := new(big.Int).Mul(y, y)
	u := new(big.Int).Sub(y2, big.NewInt(1))
	u.Mod(u, p)
	v := new(big.Int).Mul(d, y2)
	v.Add(v, big.NewInt(1)).Mod(v, p)
	x2 := new(big.Int).Mul(u, new(big.Int).ModInverse(v, p))
	x2.Mod(x2, p)
	// x = x2^((p+3)/8), times sqrt(-1) when that squares to -x2.
	e := new(big.Int).Add(p, big.NewInt(3))
	e.Rsh(e, 3)
	x = new(big.Int).Exp(x2, e, p)
	if new(big.Int).Exp(x, big.NewInt(2), p).Cmp(x2) != 0 {
		sqrtM1 := new(big.Int).Exp(big.NewInt(2), new(big.Int).Rsh(new(big.Int).Sub(p, big.NewInt(1)), 2), p)
		x.Mul(x, sqrtM1).Mod(x, p)
		if new(big.Int).Exp(x, big.NewInt(2), p).Cmp(x2) != 0 {
			return nil, nil, errors.New("putty host key: ed25519 key is not a point")
		}
	}
	if x.Sign() == 0 && sign == 1 {
		return nil, nil, errors.New("putty host key: ed25519 key is not a point")
	}
	if byte(x.Bit(0)) != sign {
		x.Sub(p, x)
	}
	return x, y, nil
}
