package store

import (
	"encoding/binary"
	"hash"
	"hash/fnv"
	"io"

	"github.com/backupreport/backupreport/parser"
)

// The file errors digest is a checksum of a result's file_errors rows
// (line, kind, path, excepted, exception), kept in results so that a
// re-evaluation can tell, without reading the rows, that its new judgment
// of a result is the one stored: for most results an exception change
// changes nothing. Exception deletion, which clears file_errors.exception_id
// behind it, can only make the stored digest differ from a new judgment,
// which then reads the rows.
type digest struct {
	h   hash.Hash64
	buf [8]byte
}

func newDigest() *digest { return &digest{h: fnv.New64a()} }

func (d *digest) add(line int, kind, path string, exID *int64) {
	binary.LittleEndian.PutUint64(d.buf[:], uint64(line))
	d.h.Write(d.buf[:])
	io.WriteString(d.h, kind)
	d.h.Write([]byte{0})
	io.WriteString(d.h, path)
	d.h.Write([]byte{0})
	switch {
	case exID != nil:
		d.h.Write([]byte{2})
		binary.LittleEndian.PutUint64(d.buf[:], uint64(*exID))
		d.h.Write(d.buf[:])
	default:
		d.h.Write([]byte{0})
	}
}

// sum returns the digest as SQL stores it (a signed 64-bit integer).
func (d *digest) sum() int64 { return int64(d.h.Sum64()) }

// digestOf is the digest of file errors as insertFileErrors stores them
// with exceptions ex: each excepted one linked to the first exception with
// its pattern.
func digestOf(errs []parser.FileError, ex []Exception) int64 {
	d := newDigest()
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
func digestOfStored(rows []storedFE) int64 {
	d := newDigest()
	for _, s := range rows {
		exID := s.exID
		if s.excepted && exID == nil {
			exID = &noException
		}
		d.add(s.line, s.kind, s.path, exID)
	}
	return d.sum()
}
