package server

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gliderlabs/ssh"
	"github.com/pkg/sftp"

	"github.com/backupreport/backupreport/store/logkey"
)

// maxPending bounds the out-of-order SFTP writes held in memory per file.
// OpenSSH's sftp and pkg/sftp's client keep at most 64 requests of 32 KiB
// in flight (2 MiB), so in practice the bound is never reached; past it a
// write fails. It is part of what an SFTP upload takes of the memory
// budget (uploadHoldSFTP).
const maxPending = 4 << 20

// maxSessionFiles bounds the files an SFTP session remembers for stat and
// listing (see jail.files); past it, further uploads are stored as usual
// but not shown.
const maxSessionFiles = 256

// handleSFTP serves the sftp subsystem as a write-only jail. A customer
// starts in /reports/<customer> and can:
//   - stat /, /reports and /reports/<customer> (folders, mode 0300);
//   - cd into /reports/<customer> and list it: the listing shows only the
//     files uploaded in this session, nothing else;
//   - create report files in it (one open upload at a time), and stat,
//     lstat or fstat them: a regular file of the bytes written so far;
//   - set times and modes (ignored).
//
// Everything else is refused: reading any file, listing any other folder,
// other customers' folders, stat of anything not written in this session,
// remove, rename, mkdir, links.
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
	if s.keyRevokedSince(sess.Context(), id, keyFresh) {
		s.finish(sess, errRevoked)
		return
	}
	ch := &endWatch{ReadWriteCloser: sess}
	j := &jail{s: s, sess: sess, id: id, ended: &ch.ended, files: map[string]*sessionFile{}}
	// FilePut is an OpenFileWriter, and endWatch marks every open as
	// asking for reading too: pkg/sftp then hands a read on an upload
	// handle to uploadFile.ReadAt, which refuses it, rather than to
	// WriteAt as a write of zeros (what it does with a write-only handle).
	h := sftp.Handlers{FileGet: j, FilePut: j, FileCmd: j, FileList: j}
	rs := sftp.NewRequestServer(ch, h, sftp.WithStartDirectory("/reports/"+id.key.Customer))
	if err := rs.Serve(); err != nil && !errors.Is(err, io.EOF) {
		s.log.Info("sftp session ended", logkey.RemoteAddr, sess.RemoteAddr().String(), logkey.Err, err)
	}
	// Not rs.Close(): it would close the channel before the exit status,
	// and scp (in SFTP mode) counts a missing exit status as a failure.
	sess.Exit(0)
}

// endWatch notes when the client's side of the channel ended, so that a
// file still open then is known to be interrupted, not finished. It also
// marks the opens it passes on (see openMarker).
type endWatch struct {
	io.ReadWriteCloser
	ended atomic.Bool
	mark  openMarker
}

func (e *endWatch) Read(p []byte) (int, error) {
	n, err := e.ReadWriteCloser.Read(p)
	e.mark.scan(p[:n])
	if err != nil {
		e.ended.Store(true)
	}
	return n, err
}

// SFTP (version 3) packet types and open flags openMarker knows.
const (
	sshFxpOpen  = 3
	sshFxfRead  = 0x01
	sftpOpenHdr = 13 // length, type, request id, file name length
)

// openMarker follows the SFTP packets the client sends and sets the read
// flag (SSH_FXF_READ) in every SSH_FXP_OPEN, in place, as the bytes pass.
// pkg/sftp's request server answers a read on a handle opened write-only
// by calling the handle's WriteAt with a buffer of zeros; on a handle
// opened for reading and writing it calls the handler's ReadAt, which
// refuses. A read-only open stays read-only (and is refused by Fileread).
// It holds a packet header (13 bytes), never a packet, and follows the
// same length prefixes pkg/sftp reads packets by.
type openMarker struct {
	hdr    [sftpOpenHdr]byte
	pos    int64 // bytes of the current packet seen, its length prefix included
	total  int64 // the current packet's size, its length prefix included
	flagAt int64 // offset in the packet of the byte holding SSH_FXF_READ, or -1
}

func (m *openMarker) scan(b []byte) {
	for len(b) > 0 {
		if m.pos < 4 || (m.pos < sftpOpenHdr && m.pos < m.total) {
			m.hdr[m.pos] = b[0]
			m.pos++
			b = b[1:]
			switch {
			case m.pos == 4:
				m.total, m.flagAt = 4+int64(binary.BigEndian.Uint32(m.hdr[:4])), -1
			case m.pos == sftpOpenHdr && m.hdr[4] == sshFxpOpen:
				// The flags (uint32, big-endian) follow the file name;
				// the read flag is in their last byte.
				m.flagAt = sftpOpenHdr + int64(binary.BigEndian.Uint32(m.hdr[9:13])) + 3
			}
		} else {
			n := min(int64(len(b)), m.total-m.pos)
			if m.flagAt >= m.pos && m.flagAt < m.pos+n {
				b[m.flagAt-m.pos] |= sshFxfRead
			}
			m.pos += n
			b = b[n:]
		}
		if m.pos >= 4 && m.pos == m.total {
			m.pos = 0
		}
	}
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
	// readLogged notes that a refused read was logged.
	readLogged atomic.Bool

	// files are the files uploaded in this session, by cleaned path, for
	// stat and listing; at most maxSessionFiles.
	mu    sync.Mutex
	files map[string]*sessionFile
}

// sessionFile is a file uploaded in this session, as stat shows it.
type sessionFile struct {
	name    string
	size    *atomic.Int64 // the bytes written so far (orderedWriter.size)
	modTime time.Time
}

// remember notes a file opened for upload, for stat and listing.
func (j *jail) remember(p string, w *orderedWriter) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if _, ok := j.files[p]; !ok && len(j.files) >= maxSessionFiles {
		return
	}
	j.files[p] = &sessionFile{name: path.Base(p), size: w.size, modTime: time.Now()}
}

// fileInfo returns what stat shows of a file uploaded in this session.
func (j *jail) fileInfo(p string) (os.FileInfo, bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	f, ok := j.files[p]
	if !ok {
		return nil, false
	}
	return fileInfo{name: f.name, size: f.size.Load(), modTime: f.modTime}, true
}

// listing returns the files uploaded in this session into folder dir.
func (j *jail) listing(dir string) listerAt {
	j.mu.Lock()
	defer j.mu.Unlock()
	out := listerAt{}
	for p, f := range j.files {
		if path.Dir(p) == dir {
			out = append(out, fileInfo{name: f.name, size: f.size.Load(), modTime: f.modTime})
		}
	}
	slices.SortFunc(out, func(a, b os.FileInfo) int { return strings.Compare(a.Name(), b.Name()) })
	return out
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
	p := path.Clean(r.Filepath)
	own := strings.EqualFold(p, "/reports/"+j.id.key.Customer)
	switch r.Method {
	case "Stat", "Lstat":
		if p == "/" || p == "/reports" || own {
			return listerAt{dirInfo(path.Base(p))}, nil
		}
		if fi, ok := j.fileInfo(p); ok {
			return listerAt{fi}, nil
		}
		return nil, os.ErrNotExist
	case "List":
		if own { // cd (psftp opens the folder to check it) and ls
			return j.listing(p), nil
		}
	}
	return nil, errReadOnly
}

// errReadUpload refuses reads on an upload handle.
var errReadUpload = fmt.Errorf("%w: reading is refused: this server only accepts report uploads", sftp.ErrSSHFxPermissionDenied)

// OpenFile opens a report file for upload. Every open of a file for
// writing comes here (see openMarker); the handle refuses reads.
func (j *jail) OpenFile(r *sftp.Request) (sftp.WriterAtReaderAt, error) {
	w, err := j.openUpload(r)
	if err != nil {
		return nil, err
	}
	return uploadFile{orderedWriter: w, j: j}, nil
}

// Filewrite is OpenFile for a write-only open; openMarker makes every open
// read-write, so it is reached only if pkg/sftp changes its dispatch.
func (j *jail) Filewrite(r *sftp.Request) (io.WriterAt, error) {
	return j.openUpload(r)
}

// uploadFile is an upload handle: writes are the report, reads refused.
type uploadFile struct {
	*orderedWriter
	j *jail
}

func (f uploadFile) ReadAt([]byte, int64) (int, error) {
	f.j.s.metrics.Refused.WithLabelValues("sftp_read").Inc()
	if f.j.readLogged.CompareAndSwap(false, true) { // once per session: a client may read in a loop
		f.j.s.log.Info("sftp read on an upload handle refused", logkey.RemoteAddr, f.j.sess.RemoteAddr().String())
	}
	return 0, errReadUpload
}

func (j *jail) openUpload(r *sftp.Request) (*orderedWriter, error) {
	p := path.Clean(r.Filepath)
	if _, _, err := j.s.target(j.id, p); err != nil {
		j.s.metrics.Refused.WithLabelValues(err.(*refusal).reason).Inc()
		j.s.log.Info("sftp upload refused", logkey.RemoteAddr, j.sess.RemoteAddr().String(), logkey.Path, p, logkey.Err, err)
		return nil, fmt.Errorf("%w: %v", sftp.ErrSSHFxPermissionDenied, err)
	}
	if !j.busy.CompareAndSwap(false, true) {
		return nil, fmt.Errorf("%w: one upload at a time; close the first file before opening the next", sftp.ErrSSHFxFailure)
	}
	pr, pw := io.Pipe()
	w := newOrderedWriter(pw, j.ended.Load)
	j.remember(p, w)
	go func() {
		receipt, err := j.s.upload(j.sess.Context(), j.id, p, source{r: pr, protocol: "sftp",
			complete: func() bool { return !w.aborted }, failed: w.failure, granted: w.open})
		w.open()                                      // a refused upload lets its writes fail
		pr.CloseWithError(errors.New("upload ended")) // unblock a writer if parsing stopped early
		if err == nil {
			io.WriteString(j.sess.Stderr(), receipt+"\n")
		} else {
			// OpenSSH's sftp shows only the status code of a failed
			// close, not its message: say it on stderr too.
			fmt.Fprintf(j.sess.Stderr(), "backupreport: %s: %v\n", p, err)
		}
		// Free the session's slot before Close returns, so that the
		// client's next open right after the close finds it free.
		j.busy.Store(false)
		w.done <- err
	}()
	return w, nil
}

// orderedWriter turns SFTP's WriteAt calls, which pkg/sftp may deliver out
// of order, back into a stream: writes at the next offset go straight to
// the parser, later ones wait in a bounded buffer until the gap is filled.
// Writes wait until the upload has its share of the memory budget.
type orderedWriter struct {
	mu           sync.Mutex
	pw           *io.PipeWriter
	next         int64
	size         *atomic.Int64 // next, for stat without the lock (held while a write waits)
	pending      map[int64][]byte
	pendingBytes int
	err          error

	ready     chan struct{} // closed once the upload reads (see open)
	readyOnce sync.Once

	interrupted func() bool
	aborted     bool  // set before the stream is closed
	failed      error // set at close: the file is not whole, store nothing
	done        chan error
}

func newOrderedWriter(pw *io.PipeWriter, interrupted func() bool) *orderedWriter {
	return &orderedWriter{pw: pw, size: new(atomic.Int64), pending: map[int64][]byte{}, ready: make(chan struct{}), done: make(chan error, 1), interrupted: interrupted}
}

// open lets writes in: the upload reads, or ended.
func (w *orderedWriter) open() { w.readyOnce.Do(func() { close(w.ready) }) }

// failure returns why the file was not whole at close, if it was not.
func (w *orderedWriter) failure() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.failed
}

func (w *orderedWriter) WriteAt(p []byte, off int64) (int, error) {
	<-w.ready
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
	w.size.Store(w.next)
	return nil
}

// Close ends the stream and waits for the report to be stored: the
// client's close succeeds only after the commit. A file closed with a gap
// (bytes written past a range never written) or after a write failed is
// not whole: close fails and nothing is stored. A file still open when
// the connection died is stored as interrupted.
func (w *orderedWriter) Close() error {
	w.mu.Lock()
	switch {
	case w.interrupted():
		w.aborted = true
	case w.err != nil:
		w.failed = fmt.Errorf("%w: %v; nothing was stored; upload the file again", sftp.ErrSSHFxFailure, w.err)
	case len(w.pending) > 0:
		first := int64(-1)
		for off := range w.pending {
			if first < 0 || off < first {
				first = off
			}
		}
		w.failed = fmt.Errorf("%w: the file has a gap: bytes %d to %d were never written; nothing was stored; upload the file again",
			sftp.ErrSSHFxFailure, w.next, first-1)
	}
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

// fileInfo is a file uploaded in this session, as stat shows it: a regular
// file, write-only (0200), of the bytes written.
type fileInfo struct {
	name    string
	size    int64
	modTime time.Time
}

func (f fileInfo) Name() string       { return f.name }
func (f fileInfo) Size() int64        { return f.size }
func (f fileInfo) Mode() os.FileMode  { return 0o200 }
func (f fileInfo) ModTime() time.Time { return f.modTime }
func (f fileInfo) IsDir() bool        { return false }
func (f fileInfo) Sys() any           { return nil }
