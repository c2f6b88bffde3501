package password

import (
	"strings"
	"testing"
)

func TestGenerateHas20CharactersWithoutLookAlikes(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		pw := Generate()
		if len(pw) != 20 || strings.ContainsAny(pw, "0O1lIio") {
			t.Fatalf("Generate() = %q: want 20 characters without 0 O 1 l I i o", pw)
		}
		if seen[pw] {
			t.Fatalf("Generate() repeated %q", pw)
		}
		seen[pw] = true
	}
}
