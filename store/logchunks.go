package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"time"
)

// ChunkBytes is about the size of the pieces a big log is stored in. A log
// that compresses to less (nearly all: a typical report is 13 KB) is
// stored whole in its raw_logs row, in the transaction of its result, and
// read back from that row alone.
const ChunkBytes = 1 << 20

// chunkTimeout bounds the write of one piece. It does not depend on the
// upload's context: an upload whose client went away is still stored, as
// interrupted.
const chunkTimeout = time.Minute

// LogSpool compresses an upload's log as it arrives (as NewLogWriter does)
// and writes the compressed bytes to the database in pieces of about
// ChunkBytes, each in its own short transaction, so that an upload holds
// at most about one piece in memory whatever the log's size. The pieces
// stay invisible until SaveUpload links them to the upload's result, in
// the result's transaction. Discard deletes them when the upload is not
// stored; pieces left by a crash are deleted by DeleteUnlinkedChunks.
//
// A LogSpool is not safe for concurrent use.
type LogSpool struct {
	db         *DB
	zw         *LogWriter
	buf        bytes.Buffer
	upload     int64 // log_uploads.id, 0 until the first piece
	chunks     int
	chunkBytes int64
	err        error
	finished   bool
}

// NewLogSpool starts the compressed log of one upload.
func (db *DB) NewLogSpool() *LogSpool {
	s := &LogSpool{db: db}
	s.zw = NewLogWriter(&s.buf)
	return s
}

// Write compresses p, and writes a piece to the database once enough
// compressed bytes are held. It fails once a piece could not be written;
// nothing of the log is stored then.
func (s *LogSpool) Write(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	if s.finished {
		return 0, errors.New("log spool: write after finish")
	}
	n := 0
	for len(p) > 0 {
		// In slices, so that a big write does not make a big piece.
		b := p[:min(len(p), logBlock)]
		if _, err := s.zw.Write(b); err != nil {
			s.err = fmt.Errorf("compress log: %w", err)
			return n, s.err
		}
		if s.buf.Len() >= ChunkBytes {
			if err := s.flush(); err != nil {
				return n, err
			}
		}
		n += len(b)
		p = p[len(b):]
	}
	return n, nil
}

// Held returns the compressed bytes held in memory, waiting to be written.
func (s *LogSpool) Held() int { return s.buf.Cap() }

// flush writes the held compressed bytes as the next piece.
func (s *LogSpool) flush() error {
	ctx, cancel := context.WithTimeout(context.Background(), chunkTimeout)
	defer cancel()
	data := s.buf.Bytes()
	err := s.db.withTx(ctx, func(tx *sql.Tx) error {
		if s.upload == 0 {
			if err := tx.QueryRowContext(ctx, `INSERT INTO log_uploads (started_at) VALUES (?) RETURNING id`, formatTime(s.db.Now())).Scan(&s.upload); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO log_chunks (upload_id, seq, data) VALUES (?, ?, ?)`, s.upload, s.chunks, data)
		return err
	})
	if err != nil {
		s.err = fmt.Errorf("store piece %d of the log: %w", s.chunks, err)
		return s.err
	}
	s.chunks++
	s.chunkBytes += int64(len(data))
	s.buf.Reset()
	return nil
}

// Finish ends the compressed log and returns it, ready for Upload.Log:
// the pieces written so far and, in Data, the rest. originalBytes and
// truncated describe the text the log was made of.
func (s *LogSpool) Finish(originalBytes int64, truncated bool) (RawLog, error) {
	if !s.finished {
		s.finished = true
		if err := s.zw.Close(); err != nil && s.err == nil {
			s.err = fmt.Errorf("compress log: %w", err)
		}
	}
	if s.err != nil {
		return RawLog{}, s.err
	}
	return RawLog{Data: CompressedBytes(&s.buf), Compression: CompressionS2, OriginalBytes: originalBytes, Truncated: truncated,
		Chunks: s.chunks, ChunkBytes: s.chunkBytes, upload: s.upload}, nil
}

// Discard deletes the pieces written, unless SaveUpload linked them to a
// result (then it does nothing), and lets go of the compressor. It is
// called when the upload is not stored, and may be called in any case.
func (s *LogSpool) Discard() error {
	if !s.finished {
		s.finished = true
		s.zw.Close()
	}
	s.buf = bytes.Buffer{}
	if s.upload == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), chunkTimeout)
	defer cancel()
	err := s.db.withTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM log_uploads WHERE id = ?`, s.upload)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete the pieces of an upload not stored: %w", err)
	}
	s.upload = 0
	return nil
}

// DeleteUnlinkedChunks deletes the pieces of logs whose upload never
// committed: left by a crash, or by a failed delete. Only the serve
// process writes pieces, so it calls this when it starts, before it
// accepts uploads; the command line must not (it would delete the pieces
// of uploads serve is receiving). It returns how many pieces it deleted.
// With several serve nodes on one database, a node starting must not
// delete the pieces other nodes are writing: it calls
// DeleteUnlinkedChunksBefore instead.
func (db *DB) DeleteUnlinkedChunks(ctx context.Context) (int64, error) {
	return db.deleteUnlinkedChunks(ctx, nil)
}

// DeleteUnlinkedChunksBefore is DeleteUnlinkedChunks for the uploads whose
// first piece was written before t: pieces of uploads started since are
// left alone, as another node may still be receiving them.
func (db *DB) DeleteUnlinkedChunksBefore(ctx context.Context, t time.Time) (int64, error) {
	return db.deleteUnlinkedChunks(ctx, &t)
}

func (db *DB) deleteUnlinkedChunks(ctx context.Context, before *time.Time) (int64, error) {
	var n int64
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		if before != nil {
			cut := formatTime(*before)
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM log_chunks WHERE result_id IS NULL
				AND upload_id IN (SELECT id FROM log_uploads WHERE started_at < ?)`, cut).Scan(&n); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `DELETE FROM log_uploads WHERE started_at < ?`, cut)
			return err // the pieces go with their upload (ON DELETE CASCADE)
		}
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM log_chunks WHERE result_id IS NULL`).Scan(&n); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM log_uploads`); err != nil {
			return err
		}
		// Pieces without an upload and without a result cannot be read
		// by anything; none should exist, but do not keep them.
		_, err := tx.ExecContext(ctx, `DELETE FROM log_chunks WHERE result_id IS NULL`)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("delete pieces of logs never stored: %w", err)
	}
	return n, nil
}

// linkChunks makes the pieces of l part of the raw log of result id, in
// the result's transaction.
func linkChunks(ctx context.Context, tx txn, resultID int64, l RawLog) error {
	if l.Chunks == 0 {
		return nil
	}
	if l.upload == 0 {
		return errors.New("raw log in pieces without its upload")
	}
	res, err := tx.ExecContext(ctx, `UPDATE log_chunks SET result_id = ?, upload_id = NULL WHERE upload_id = ?`, resultID, l.upload)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n != int64(l.Chunks) {
		return fmt.Errorf("raw log: %d of its %d pieces are in the database", n, l.Chunks)
	}
	_, err = tx.ExecContext(ctx, `DELETE FROM log_uploads WHERE id = ?`, l.upload)
	return err
}

// chunkReader reads the compressed log of a result stored in pieces: the
// pieces in order, one at a time, then the rest kept in the raw_logs row.
type chunkReader struct {
	db       *DB
	resultID int64
	next     int // the next piece to read
	chunks   int
	cur      []byte
	rest     []byte
}

func (db *DB) newChunkReader(resultID int64, chunks int, rest []byte) *chunkReader {
	return &chunkReader{db: db, resultID: resultID, chunks: chunks, rest: rest}
}

func (r *chunkReader) Read(p []byte) (int, error) {
	for len(r.cur) == 0 {
		if r.next == r.chunks {
			if len(r.rest) == 0 {
				return 0, io.EOF
			}
			r.cur, r.rest = r.rest, nil
			break
		}
		ctx, cancel := context.WithTimeout(context.Background(), chunkTimeout)
		err := r.db.db.QueryRowContext(ctx, `SELECT data FROM log_chunks WHERE result_id = ? AND seq = ?`, r.resultID, r.next).Scan(&r.cur)
		cancel()
		if err != nil {
			return 0, fmt.Errorf("piece %d of the log of result %d: %w", r.next, r.resultID, mapErr(err))
		}
		r.next++
	}
	n := copy(p, r.cur)
	r.cur = r.cur[n:]
	return n, nil
}
