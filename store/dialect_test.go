package store

import "testing"

func TestRebindNumbersPlaceholdersOutsideLiteralsAndComments(t *testing.T) {
	for _, tt := range []struct{ name, in, want string }{
		{"a query without placeholders is unchanged", `SELECT 1`, `SELECT 1`},
		{"placeholders are numbered in order", `UPDATE t SET a = ?, b = ? WHERE id = ?`, `UPDATE t SET a = $1, b = $2 WHERE id = $3`},
		{"a ? in a string literal stays", `SELECT 'why?' FROM t WHERE a = ?`, `SELECT 'why?' FROM t WHERE a = $1`},
		{"a doubled quote keeps the literal open", `SELECT 'it''s ?', ?`, `SELECT 'it''s ?', $1`},
		{"a ? in a quoted identifier stays", `SELECT "odd?" FROM t WHERE a = ?`, `SELECT "odd?" FROM t WHERE a = $1`},
		{"a ? in a line comment stays", "SELECT a -- really?\nFROM t WHERE a = ?", "SELECT a -- really?\nFROM t WHERE a = $1"},
		{"a ? in a block comment stays", `SELECT /* ? */ a FROM t WHERE a = ?`, `SELECT /* ? */ a FROM t WHERE a = $1`},
		{"ten and more", `VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, `VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`},
		{"an unclosed literal is copied as it is", `SELECT ? 'x?`, `SELECT $1 'x?`},
		{"a comment at the end", `SELECT ? -- ?`, `SELECT $1 -- ?`},
		{"a minus is not a comment", `SELECT ? - ?`, `SELECT $1 - $2`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := rebind(tt.in); got != tt.want {
				t.Errorf("rebind(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestIsPostgresDSN(t *testing.T) {
	for in, want := range map[string]bool{
		"postgres://u@h/db": true, "postgresql://u@h/db": true, "Postgres://u@h/db": true,
		"/var/lib/backupreport/backupreport.db": false, "postgres.db": false, "data/postgres://x": false, "": false,
	} {
		if got := IsPostgresDSN(in); got != want {
			t.Errorf("IsPostgresDSN(%q) = %v, want %v", in, got, want)
		}
	}
}
