// Package password makes passwords for accounts whose password nobody chose
// (a new member of staff, the demo staff).
package password

import (
	"crypto/rand"
	"math/big"
)

// Generate returns a random 20-character password without
// look-alike characters, for accounts whose password nobody chose.
func Generate() string {
	const alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 20)
	for i := range b {
		n, _ := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		b[i] = alphabet[n.Int64()]
	}
	return string(b)
}
