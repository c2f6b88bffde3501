package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Space is what the database takes on disk and what is left.
type Space struct {
	Path     string `json:"path"`
	DBBytes  int64  `json:"db_bytes"`  // the database file
	WALBytes int64  `json:"wal_bytes"` // its write-ahead log (shrinks at checkpoints)
	// FreePageBytes is room inside the file that deleted data left; new
	// data reuses it before the file grows. The file itself never shrinks
	// (a VACUUM, or a backup restored, does).
	FreePageBytes int64 `json:"free_page_bytes"`
	// DiskFreeBytes is what the file system of the data folder has left
	// for this process; -1 where it cannot be told.
	DiskFreeBytes int64 `json:"disk_free_bytes"`
}

// path returns the database's file, as SQLite names it.
func (db *DB) path(ctx context.Context) (string, error) {
	rows, err := db.db.QueryContext(ctx, `PRAGMA database_list`)
	if err != nil {
		return "", mapErr(err)
	}
	defer rows.Close()
	for rows.Next() {
		var seq int
		var name, file string
		if err := rows.Scan(&seq, &name, &file); err != nil {
			return "", err
		}
		if name == "main" {
			return file, nil
		}
	}
	if err := rows.Err(); err != nil {
		return "", mapErr(err)
	}
	return "", errors.New("no main database")
}

// ErrSQLiteOnly is returned by what only a SQLite database can do
// (Backup, IntegrityCheck) when the database is PostgreSQL, which has its
// own tools for them (pg_dump, amcheck).
var ErrSQLiteOnly = errors.New("only for a SQLite database; use PostgreSQL's own tools (pg_dump, amcheck)")

// Space returns the sizes of the database's files, the free room inside
// them and the free disk space of their folder. On PostgreSQL, Path is
// the database's name, DBBytes its size (pg_database_size), and the rest
// 0, or -1 for DiskFreeBytes: the server's disk is not this machine's.
func (db *DB) Space(ctx context.Context) (Space, error) {
	var sp Space
	if db.dialect == postgresDialect {
		if err := db.db.QueryRowContext(ctx, `SELECT current_database(), pg_database_size(current_database())`).Scan(&sp.Path, &sp.DBBytes); err != nil {
			return sp, fmt.Errorf("database space: %w", mapErr(err))
		}
		sp.DiskFreeBytes = -1
		return sp, nil
	}
	p, err := db.path(ctx)
	if err != nil {
		return sp, fmt.Errorf("database space: %w", err)
	}
	sp.Path = p
	if fi, err := os.Stat(p); err == nil {
		sp.DBBytes = fi.Size()
	}
	if fi, err := os.Stat(p + "-wal"); err == nil {
		sp.WALBytes = fi.Size()
	}
	var free, pageSize int64
	if err := db.db.QueryRowContext(ctx, `PRAGMA freelist_count`).Scan(&free); err != nil {
		return sp, fmt.Errorf("database space: %w", mapErr(err))
	}
	if err := db.db.QueryRowContext(ctx, `PRAGMA page_size`).Scan(&pageSize); err != nil {
		return sp, fmt.Errorf("database space: %w", mapErr(err))
	}
	sp.FreePageBytes = free * pageSize
	sp.DiskFreeBytes = diskFree(filepath.Dir(p))
	return sp, nil
}

// Backup writes a consistent copy of the database to path with SQLite's
// VACUUM INTO, while uploads go on: it reads one snapshot, takes no write
// lock, and the copy is compact (no free pages) and has no WAL of its own.
// The copy is written beside path under a temporary name, synced, and
// only then given its name, so a failed backup never leaves a partial file
// at path. An existing path is an error wrapping fs.ErrExist unless
// overwrite is set. It returns the copy's size.
//
// While it runs, the WAL cannot be checkpointed past its snapshot and
// grows with the writes made meanwhile.
//
// On PostgreSQL it returns ErrSQLiteOnly.
func (db *DB) Backup(ctx context.Context, path string, overwrite bool) (int64, error) {
	if db.dialect == postgresDialect {
		return 0, fmt.Errorf("backup to %s: %w", path, ErrSQLiteOnly)
	}
	if !overwrite {
		if _, err := os.Lstat(path); err == nil {
			return 0, fmt.Errorf("backup to %s: %w", path, fs.ErrExist)
		}
	}
	dir, base := filepath.Dir(path), filepath.Base(path)
	var rnd [6]byte
	rand.Read(rnd[:])
	tmp := filepath.Join(dir, "."+base+".tmp-"+hex.EncodeToString(rnd[:]))
	if self, err := db.path(ctx); err == nil && sameFile(self, path) {
		return 0, fmt.Errorf("backup to %s: that is the database itself", path)
	}
	fail := func(err error) (int64, error) {
		os.Remove(tmp)
		return 0, fmt.Errorf("backup to %s: %w", path, err)
	}
	if _, err := db.db.ExecContext(ctx, `VACUUM INTO ?`, tmp); err != nil {
		return fail(mapErr(err))
	}
	f, err := os.Open(tmp)
	if err != nil {
		return fail(err)
	}
	err = f.Sync()
	fi, serr := f.Stat()
	f.Close()
	if err == nil {
		err = serr
	}
	if err != nil {
		return fail(err)
	}
	if overwrite {
		err = os.Rename(tmp, path)
	} else if err = os.Link(tmp, path); err == nil || errors.Is(err, fs.ErrExist) {
		os.Remove(tmp)
	} else if _, serr := os.Lstat(path); serr == nil {
		err = fs.ErrExist
	} else {
		err = os.Rename(tmp, path) // no hard links on this file system
	}
	if err != nil {
		return fail(err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return fi.Size(), nil
}

func sameFile(a, b string) bool {
	fa, err := os.Stat(a)
	if err != nil {
		return false
	}
	fb, err := os.Stat(b)
	if err != nil {
		return strings.EqualFold(filepath.Clean(a), filepath.Clean(b))
	}
	return os.SameFile(fa, fb)
}

// IntegrityCheck runs SQLite's integrity_check over the whole database
// and returns an error listing the first problems it found. It reads every
// page: minutes on a large database. On PostgreSQL it returns
// ErrSQLiteOnly.
func (db *DB) IntegrityCheck(ctx context.Context) error {
	if db.dialect == postgresDialect {
		return fmt.Errorf("integrity check: %w", ErrSQLiteOnly)
	}
	rows, err := db.db.QueryContext(ctx, `PRAGMA integrity_check(20)`)
	if err != nil {
		return fmt.Errorf("integrity check: %w", mapErr(err))
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return err
		}
		if s != "ok" {
			problems = append(problems, s)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("integrity check: %w", mapErr(err))
	}
	if len(problems) > 0 {
		return fmt.Errorf("integrity check: %s", strings.Join(problems, "; "))
	}
	return nil
}
