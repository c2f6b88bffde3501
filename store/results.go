package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/backupreport/backupreport/parser"
)

// Sources of a result.
const (
	SourceUpload  = "upload"  // a report a customer uploaded
	SourceMissing = "missing" // recorded by the missing-report check
	SourceDemo    = "demo"    // made by "backupreport demo"
)

// StatusMissing is the status of a night whose report never came.
const StatusMissing = parser.StatusMissing

// RawLog is an upload's text as stored: compressed (see NewLogWriter and
// Open), and cut in the middle (head and tail kept, with a marker) when it
// was too long. A big log is stored in pieces (see LogSpool): its
// compressed stream is the pieces, then Data.
type RawLog struct {
	Data          []byte
	Compression   string // CompressionS2 or CompressionGzip
	OriginalBytes int64  // bytes received
	Truncated     bool
	// Chunks is how many pieces of the compressed log are stored apart
	// (0 for nearly every log), ChunkBytes their compressed size.
	Chunks     int
	ChunkBytes int64

	upload   int64 // the pieces' log_uploads row, until SaveUpload
	db       *DB   // to read the pieces (RawLogOf)
	resultID int64
}

// StoredBytes returns the compressed size of the log in the database: its
// pieces and its row's data.
func (l RawLog) StoredBytes() int64 { return l.ChunkBytes + int64(len(l.Data)) }

// Upload is one received report, judged, ready to be stored.
type Upload struct {
	ServerID int64
	// KeyID is the key that signed the upload's login, if any. A result
	// of a key is stored only while that key is registered and not
	// revoked: StoreUpload checks it in the result's transaction, so that
	// nothing is stored after a revocation committed, and returns
	// ErrKeyRevoked otherwise.
	KeyID         *int64
	ReceivedAt    time.Time
	Night         Night
	Source        string
	Protocol      string // exec, sftp, scp
	RemoteAddr    string
	ClientVersion string
	KeyType       string
	// End is how the upload ended (parser.EndComplete when empty): with
	// the log, the fact its verdict depends on, stored so that every later
	// judgment hands parser.Judge the same facts. EndInterrupted sets the
	// interrupted column.
	End parser.End
	// Baseline is the server's normal the upload was judged against (see
	// DB.Baseline, with DB.Thresholds), stored with it as End is.
	Baseline    *parser.Baseline
	Reason      string // why, for interrupted, refused or missing results
	UploadBytes int64
	// Result is the parser's verdict, judged (parser.Judge) with End and
	// Exceptions.
	Result *parser.Result
	// Exceptions are those that were applied, to link file errors to them.
	// SaveUpload applies the server's exceptions again if they changed
	// while the upload streamed in, so that an exception added meanwhile
	// is not missed by both the upload and the re-evaluation it started.
	Exceptions []Exception
	Log        RawLog
	// Login, when set, is the login of the upload's connection, kept on
	// its key's record in the result's transaction (see RecordLogin).
	Login *KeyLogin
	// Register, when ServerID is 0, names the server of the upload, not
	// registered yet: StoreUpload registers it (marked pending) in the
	// result's transaction, or finds it if another upload did meanwhile.
	Register *NewServer
}

// NewServer names a server to register with an upload's result.
type NewServer struct {
	CustomerID int64
	Name       string
}

// ErrKeyRevoked is returned by StoreUpload when the upload's key was
// revoked or removed before its result could commit: nothing was stored.
var ErrKeyRevoked = errors.New("key revoked or removed")

// Saved is what StoreUpload stored.
type Saved struct {
	ResultID int64
	Server   Server // set when the upload registered its server (Upload.Register)
	// Registered tells that the server was registered by this upload.
	Registered bool
}

// CountFileErrors returns how many file errors are not excepted (and not
// vanished), excepted, and vanished files: the numbers a result shows.
func CountFileErrors(errs []parser.FileError) (failing, excepted, vanished int) {
	for _, fe := range errs {
		switch {
		case fe.Kind == parser.KindVanished:
			vanished++
		case fe.Excepted:
			excepted++
		default:
			failing++
		}
	}
	return
}

// SaveUpload stores a judged upload, its file errors and its raw log in
// one transaction, and returns the result's ID. Only after it returns nil
// may the upload be acknowledged.
func (db *DB) SaveUpload(ctx context.Context, u Upload) (int64, error) {
	s, err := db.StoreUpload(ctx, u)
	return s.ResultID, err
}

// StoreUpload is SaveUpload, and registers the upload's server first when
// u.Register names one, in the same transaction: a server is registered by
// an upload only when its first result commits.
func (db *DB) StoreUpload(ctx context.Context, u Upload) (Saved, error) {
	var saved Saved
	err := db.groupTx(ctx, func(ctx context.Context, tx txn) error {
		saved = Saved{}
		if u.KeyID != nil {
			// In the transaction that stores the result: a revocation
			// commits either before it (nothing stored) or after it.
			var revoked sql.NullString
			switch err := tx.QueryRowContext(ctx, `SELECT revoked_at FROM keys WHERE id = ?`, *u.KeyID).Scan(&revoked); {
			case errors.Is(err, sql.ErrNoRows):
				return ErrKeyRevoked
			case err != nil:
				return err
			case revoked.Valid && revoked.String != "":
				return ErrKeyRevoked
			}
		}
		if u.ServerID == 0 && u.Register != nil {
			srv, created, err := db.ensureServer(ctx, tx, u.Register.CustomerID, u.Register.Name)
			if err != nil {
				return fmt.Errorf("register server %q: %w", u.Register.Name, err)
			}
			saved.Server, saved.Registered = srv, created
			u.ServerID = srv.ID
		}
		var err error
		if saved.ResultID, err = db.insertResult(ctx, tx, u); err != nil {
			return err
		}
		if u.Login != nil {
			return writeLogin(ctx, tx, *u.Login)
		}
		return nil
	})
	if err != nil {
		if u.Register != nil && u.ServerID == 0 {
			return Saved{}, fmt.Errorf("save result of new server %q: %w", u.Register.Name, err)
		}
		return Saved{}, fmt.Errorf("save result of server %d: %w", u.ServerID, err)
	}
	return saved, nil
}

func (db *DB) insertResult(ctx context.Context, tx txn, u Upload) (int64, error) {
	r := u.Result
	if r == nil {
		r = &parser.Result{Code: parser.CodeMissing, Status: parser.StatusFailed}
	}
	end := u.End
	if end == "" {
		end = parser.EndComplete
	}
	if !end.Valid() {
		return 0, fmt.Errorf("result ended %q: not a known end", end)
	}
	if u.Source == SourceUpload && u.Result != nil {
		now, err := db.queryExceptions(ctx, tx, exceptionsForServer, u.ServerID, u.ServerID)
		if err != nil {
			return 0, err
		}
		if !sameExceptions(now, u.Exceptions) {
			parser.Judge(r, parser.Facts{End: end, Baseline: u.Baseline, Thresholds: db.Thresholds}, Patterns(now))
			u.Exceptions = now
		}
	}
	status := r.Status
	if u.Source == SourceMissing {
		status = StatusMissing
	}
	failing, excepted, vanished := CountFileErrors(r.FileErrors)
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO results (server_id, key_id, received_at, night, source, protocol, status, code, complete, interrupted, reason,
		file_errors, excepted_errors, vanished, rsync_version, sent_bytes, received_bytes, total_size, speedup, bytes_per_sec, dry_run, lines, files_listed, deletions,
		upload_bytes, remote_addr, client_version, key_type, file_errors_digest, ended, dropped_errors, baseline)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		u.ServerID, u.KeyID, formatTime(u.ReceivedAt), u.Night, u.Source, u.Protocol, status, r.Code, boolInt(r.Complete), boolInt(end == parser.EndInterrupted), u.Reason,
		failing, excepted, vanished, r.RsyncVersion, r.SentBytes, r.ReceivedBytes, r.TotalSize, r.Speedup, r.BytesPerSec, boolInt(r.DryRun), r.Lines, r.FilesListed, r.Deletions,
		u.UploadBytes, u.RemoteAddr, u.ClientVersion, u.KeyType, digestOf(r.FileErrors, u.Exceptions), string(end), r.NonVanishedDropped(), encodeBaseline(u.Baseline)).Scan(&id)
	if err != nil {
		return 0, err
	}
	if len(r.FileErrors) > 0 {
		if err := db.insertFileErrors(ctx, tx, id, u.ReceivedAt, r.FileErrors, u.Exceptions); err != nil {
			return 0, err
		}
		if err := rememberErrors(ctx, tx, id); err != nil {
			return 0, err
		}
	}
	if err := writeWarnings(ctx, tx, id, r.Warnings, true); err != nil {
		return 0, err
	}
	if u.Log.Data != nil {
		if u.Log.Compression != CompressionS2 && u.Log.Compression != CompressionGzip {
			return 0, fmt.Errorf("raw log compressed with unknown %q", u.Log.Compression)
		}
		if u.Log.Chunks > 0 && u.Log.Compression != CompressionS2 {
			return 0, fmt.Errorf("raw log in pieces compressed with %q", u.Log.Compression)
		}
		// stored_bytes is what quotas count (see logSize): the row's data
		// and the pieces together.
		if _, err := tx.ExecContext(ctx, `INSERT INTO raw_logs (result_id, compression, original_bytes, truncated, data, chunks, stored_bytes) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			id, u.Log.Compression, u.Log.OriginalBytes, boolInt(u.Log.Truncated), u.Log.Data, u.Log.Chunks, u.Log.StoredBytes()); err != nil {
			return 0, err
		}
		if err := linkChunks(ctx, tx, id, u.Log); err != nil {
			return 0, err
		}
	}
	return id, nil
}

// insertFileErrors stores a result's file errors, linking each excepted one
// to the first exception with its pattern, and marks those exceptions as
// matched.
func (db *DB) insertFileErrors(ctx context.Context, tx txn, resultID int64, at time.Time, errs []parser.FileError, ex []Exception) error {
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO file_errors (result_id, line, kind, path, message, excepted, exception_id) VALUES (?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer stmt.Close()
	matched := map[int64]bool{}
	for _, fe := range errs {
		var exID *int64
		if fe.Excepted {
			for i := range ex {
				if ex[i].Pattern == fe.Exception {
					exID = &ex[i].ID
					matched[ex[i].ID] = true
					break
				}
			}
		}
		if _, err := stmt.ExecContext(ctx, resultID, fe.Line, string(fe.Kind), fe.Path, fe.Message, boolInt(fe.Excepted), exID); err != nil {
			return err
		}
	}
	for id := range matched {
		if _, err := tx.ExecContext(ctx, `UPDATE exceptions SET last_matched_at = ? WHERE id = ? AND (last_matched_at IS NULL OR last_matched_at < ?)`,
			formatTime(at), id, formatTime(at)); err != nil {
			return err
		}
	}
	return nil
}

// sameExceptions reports whether two lists hold the same exceptions with
// the same patterns, in order.
func sameExceptions(a, b []Exception) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].ID != b[i].ID || a[i].Pattern != b[i].Pattern {
			return false
		}
	}
	return true
}
