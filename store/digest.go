package store

import "github.com/backupreport/backupreport/parser"

// The file errors digest is a checksum of a result's file_errors rows
// (line, kind, path, excepted, exception), kept in results so that a
// re-evaluation can tell, without reading the rows, that its new judgment
// of a result is the one stored: for most results an exception change
// changes nothing. Deleting an exception clears file_errors.exception_id
// behind the digest, and SQLite may give its ID to the next exception:
// RemoveException clears the digests of the results it covered, so that
// the next re-evaluation compares their rows.
type digest uint64

// FNV-1a, 64 bits, written out: a digest is taken of every result judged,
// and hash/fnv would allocate each time.
const (
	fnvOffset digest = 14695981039346656037
	fnvPrime  digest = 1099511628211
)

func (d *digest) byte(b byte) { *d = (*d ^ digest(b)) * fnvPrime }

func (d *digest) uint64(v uint64) {
	for i := 0; i < 8; i++ {
		d.byte(byte(v >> (8 * i)))
	}
}

func (d *digest) string(s string) {
	for i := 0; i < len(s); i++ {
		d.byte(s[i])
	}
	d.byte(0)
}

func (d *digest) add(line int, kind, path string, exID *int64) {
	d.uint64(uint64(line))
	d.string(kind)
	d.string(path)
	if exID == nil {
		d.byte(0)
		return
	}
	d.byte(2)
	d.uint64(uint64(*exID))
}

// sum returns the digest as SQL stores it (a signed 64-bit integer).
func (d digest) sum() int64 { return int64(d) }

// digestOf is the digest of file errors as insertFileErrors stores them
// with exceptions ex: each excepted one linked to the first exception with
// its pattern.
func digestOf(errs []parser.FileError, ex []Exception) int64 {
	d := fnvOffset
	for i := range errs {
		fe := &errs[i]
		var exID *int64
		if fe.Excepted {
			exID = exceptionID(ex, fe.Exception)
			if exID == nil {
				exID = &noException
			}
		}
		d.add(fe.Line, string(fe.Kind), fe.Path, exID)
	}
	return d.sum()
}

// noException stands for an excepted error whose exception is gone (its
// exception_id was cleared when the exception was deleted).
var noException int64 = -1

// digestOfStored is the digest of stored rows.
func digestOfStored(rows []StoredFileError) int64 {
	d := fnvOffset
	for _, s := range rows {
		exID := s.ExceptionID
		if s.Excepted && exID == nil {
			exID = &noException
		}
		d.add(s.Line, s.Kind, s.Path, exID)
	}
	return d.sum()
}
