package server

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gliderlabs/ssh"
	"github.com/pkg/sftp"
)

// maxPending bounds the out-of-order SFTP writes held in memory per file.
// OpenSSH's sftp keeps at most 64 requests of 32 KiB in flight (2 MiB),
// so in practice the bound is never reached; past it a write fails.
const maxPending = 8 << 20

// handleSFTP serves the sftp subsystem as a write-only jail: a customer
// starts in /reports/<customer>, sees only that folder exists, can create
// report files in it and can read or list nothing.
func (s *Server) handleSFTP(sess ssh.Session) {
	s.metrics.OpenSessions.Inc()
	defer s.metrics.OpenSessions.Dec()
	if !s.begin() {
		s.finish(sess, errShuttingDown)
		return
	}
	defer s.inflight.Done()
	id, _ := sess.Context().Value(ctxVerifiedKey).(*identity)
	if id == nil {
		s.finish(sess, refuse("no_identity", "login not verified"))
		return
	}
	if s.keyRevoked(sess.Context(), id) {
		s.finish(sess, errRevoked)
		return
	}
	ch := &endWatch{ReadWriteCloser: sess}
	j := &jail{s: s, sess: sess, id: id, ended: &ch.ended}
	h := sftp.Handlers{FileGet: j, FilePut: j, FileCmd: j, FileList: j}
	rs := sftp.NewRequestServer(ch, h, sftp.WithStartDirectory("/reports/"+id.key.Customer))
	if err := rs.Serve(); err != nil && !errors.Is(err, io.EOF) {
		s.log.Info("sftp session ended", "remote_addr", sess.RemoteAddr().String(), "err", err)
	}
	// Not rs.Close(): it would close the channel before the exit status,
	// and scp (in SFTP mode) counts a missing exit status as a failure.
	sess.Exit(0)
}

// endWatch notes when the client's side of the channel ended, so that a
// file still open then is known to be interrupted, not finished.
type endWatch struct {
	io.ReadWriteCloser
	ended atomic.Bool
}

func (e *endWatch) Read(p []byte) (int, error) {
	n, err := e.ReadWriteCloser.Read(p)
	if err != nil {
		e.ended.Store(true)
	}
	return n, err
}

// jail implements pkg/sftp's request handlers for one session.
type jail struct {
	s     *Server
	sess  ssh.Session
	id    *identity
	ended *atomic.Bool
	// busy allows one upload at a time per session: each holds buffers,
	// and a client could otherwise open handles without end.
	busy atomic.Bool
}

var errReadOnly = fmt.Errorf("%w: this server only accepts report uploads", sftp.ErrSSHFxPermissionDenied)

func (j *jail) Fileread(*sftp.Request) (io.ReaderAt, error) { return nil, errReadOnly }

func (j *jail) Filecmd(r *sftp.Request) error {
	if r.Method == "Setstat" { // scp/sftp -p set times and modes; nothing to keep
		return nil
	}
	return errReadOnly
}

func (j *jail) Filelist(r *sftp.Request) (sftp.ListerAt, error) {
	switch r.Method {
	case "Stat", "Lstat":
		p := path.Clean(r.Filepath)
		if p == "/" || p == "/reports" || strings.EqualFold(p, "/reports/"+j.id.key.Customer) {
			return listerAt{dirInfo(path.Base(p))}, nil
		}
		return nil, os.ErrNotExist
	}
	return nil, errReadOnly
}

func (j *jail) Filewrite(r *sftp.Request) (io.WriterAt, error) {
	p := path.Clean(r.Filepath)
	if _, _, err := j.s.target(j.id, p); err != nil {
		j.s.metrics.Refused.WithLabelValues(err.(*refusal).reason).Inc()
		j.s.log.Info("sftp upload refused", "remote_addr", j.sess.RemoteAddr().String(), "path", p, "err", err)
		return nil, fmt.Errorf("%w: %v", sftp.ErrSSHFxPermissionDenied, err)
	}
	if !j.busy.CompareAndSwap(false, true) {
		return nil, fmt.Errorf("%w: one upload at a time; close the first file before opening the next", sftp.ErrSSHFxFailure)
	}
	pr, pw := io.Pipe()
	w := &orderedWriter{pw: pw, pending: map[int64][]byte{}, done: make(chan error, 1), interrupted: j.ended.Load}
	go func() {
		defer j.busy.Store(false)
		receipt, err := j.s.upload(j.sess.Context(), j.id, p, source{r: pr, protocol: "sftp", complete: func() bool { return !w.aborted }})
		pr.CloseWithError(errors.New("upload ended")) // unblock a writer if parsing stopped early
		if err == nil {
			io.WriteString(j.sess.Stderr(), receipt+"\n")
		}
		w.done <- err
	}()
	return w, nil
}

// orderedWriter turns SFTP's WriteAt calls, which pkg/sftp may deliver out
// of order, back into a stream: writes at the next offset go straight to
// the parser, later ones wait in a bounded buffer until the gap is filled.
type orderedWriter struct {
	mu           sync.Mutex
	pw           *io.PipeWriter
	next         int64
	pending      map[int64][]byte
	pendingBytes int
	err          error

	interrupted func() bool
	aborted     bool // set before the stream is closed
	done        chan error
}

func (w *orderedWriter) WriteAt(p []byte, off int64) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return 0, w.err
	}
	switch {
	case off < w.next:
		w.err = fmt.Errorf("write at offset %d goes back before %d: rewriting a report is not supported", off, w.next)
		return 0, w.err
	case off > w.next:
		if _, dup := w.pending[off]; dup || w.pendingBytes+len(p) > maxPending {
			w.err = fmt.Errorf("too many writes out of order (gap at offset %d)", w.next)
			return 0, w.err
		}
		w.pending[off] = append([]byte(nil), p...)
		w.pendingBytes += len(p)
		return len(p), nil
	}
	if err := w.write(p); err != nil {
		return 0, err
	}
	for {
		b, ok := w.pending[w.next]
		if !ok {
			return len(p), nil
		}
		delete(w.pending, w.next)
		w.pendingBytes -= len(b)
		if err := w.write(b); err != nil {
			return 0, err
		}
	}
}

func (w *orderedWriter) write(b []byte) error {
	if _, err := w.pw.Write(b); err != nil {
		w.err = fmt.Errorf("upload ended: %w", err)
		return w.err
	}
	w.next += int64(len(b))
	return nil
}

// Close ends the stream and waits for the report to be stored: the
// client's close succeeds only after the commit.
func (w *orderedWriter) Close() error {
	w.mu.Lock()
	w.aborted = w.interrupted() || len(w.pending) > 0
	w.mu.Unlock()
	w.pw.Close()
	return <-w.done
}

// listerAt answers Stat with one fixed entry.
type listerAt []os.FileInfo

func (l listerAt) ListAt(out []os.FileInfo, off int64) (int, error) {
	if off >= int64(len(l)) {
		return 0, io.EOF
	}
	n := copy(out, l[off:])
	return n, nil
}

type dirInfo string

func (d dirInfo) Name() string       { return string(d) }
func (d dirInfo) Size() int64        { return 0 }
func (d dirInfo) Mode() os.FileMode  { return os.ModeDir | 0o300 }
func (d dirInfo) ModTime() time.Time { return time.Time{} }
func (d dirInfo) IsDir() bool        { return true }
func (d dirInfo) Sys() any           { return nil }
