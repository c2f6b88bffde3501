package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/gliderlabs/ssh"
	gossh "golang.org/x/crypto/ssh"

	"github.com/backupreport/backupreport/parser"
	"github.com/backupreport/backupreport/store"
	"github.com/backupreport/backupreport/store/logkey"
	"github.com/backupreport/backupreport/store/names"
)

// errStoreFailed tells the client that storing failed, without details
// that belong in the server's log.
var errStoreFailed = errors.New("storing the report failed; nothing was stored; please run the upload again")

// errTooLarge ends an upload over Config.MaxUploadBytes.
var errTooLarge = errors.New("upload too large")

// capReader fails with errTooLarge once more than max bytes were read,
// rather than truncating silently as io.LimitReader would.
type capReader struct {
	r        io.Reader
	n, max   int64
	exceeded bool
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.exceeded {
		return 0, errTooLarge
	}
	if room := c.max - c.n + 1; int64(len(p)) > room {
		p = p[:room]
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.n > c.max {
		c.exceeded = true
		return n - int(c.n-c.max), errTooLarge
	}
	return n, err
}

// source is one upload's byte stream and how to tell, once it ends,
// whether it ended normally.
type source struct {
	r        io.Reader
	protocol string // exec, scp, sftp
	// complete reports, after r returned io.EOF, whether the client ended
	// the upload on purpose (true) or the connection died (false).
	complete func() bool
	// failed, when set, reports after r ended that the client ended the
	// upload with an error of its own (an SFTP file closed with a gap):
	// nothing is stored and the error is the client's answer.
	failed func() error
	// granted, when set, is called once the upload has its share of the
	// memory budget and reads.
	granted func()
}

// upload streams one report through the parser into the store, and
// returns the receipt line for the client. It is the single path every
// protocol takes; the returned error is a *refusal or a storage failure,
// and in both cases nothing was acknowledged.
func (s *Server) upload(ctx ssh.Context, id *identity, path string, src source) (string, error) {
	customer, name, err := s.target(id, path)
	if err != nil {
		return "", err
	}
	srv, err := s.db.ServerOfCustomer(quick(ctx), id.key.CustomerID, name)
	// A new server is registered with its first result, in the same
	// transaction: an upload that fails or is cut off leaves none behind.
	var register *store.NewServer
	var badName error
	if errors.Is(err, store.ErrNotFound) {
		badName = names.Check(names.Server, names.Normalize(name))
	}
	switch {
	case badName != nil:
		// Refused with or without auto-registration: nobody can register
		// this name, and the client should learn why.
		return "", refuse("name", "%v; a new server cannot have this name, so nothing was stored: change the name in the upload path", badName)
	case errors.Is(err, store.ErrNotFound) && s.cfg.AutoRegister:
		register = &store.NewServer{CustomerID: id.key.CustomerID, Name: name}
		srv = store.Server{CustomerID: id.key.CustomerID, Customer: id.key.Customer, Name: name}
	case errors.Is(err, store.ErrNotFound):
		return "", refuse("unknown_server", "server %q is not registered for customer %q; ask your MSP to add it", name, customer)
	case err != nil:
		s.log.Error("find server for upload", logkey.Customer, customer, logkey.Server, name, logkey.Err, err)
		return "", errStoreFailed
	}
	// Names are compared the way the database compares them (ASCII case
	// only), but check the binding by ID too: it is what was registered.
	if id.key.ServerID != nil && srv.ID != *id.key.ServerID {
		return "", refuse("server", "this key may only upload as server %q", id.key.Server)
	}
	var exs []store.Exception
	if register != nil {
		exs, err = s.db.ExceptionsForNewServer(quick(ctx), id.key.CustomerID)
	} else {
		exs, err = s.db.ExceptionsFor(quick(ctx), srv.ID)
	}
	if err != nil {
		s.log.Error("load exceptions for upload", logkey.Customer, srv.Customer, logkey.Server, srv.Name, logkey.Err, err)
		return "", errStoreFailed
	}

	// Not a byte is read before the upload has its share of the budget:
	// meanwhile the SSH channel's window fills and the client waits.
	need := int64(uploadHoldBase)
	if src.protocol == "sftp" {
		need = uploadHoldSFTP
	}
	held, waited, err := s.budget.acquire(ctx, need)
	if err != nil {
		if errors.Is(err, errBusy) {
			s.log.Warn("upload refused: upload memory budget spent", logkey.Customer, srv.Customer, logkey.Server, srv.Name,
				logkey.Waited, s.budget.wait.String(), logkey.LimitBytes, s.budget.limit, logkey.RemoteAddr, ctx.RemoteAddr().String())
			return "", err
		}
		return "", errStoreFailed // the client left while it waited
	}
	defer s.budget.release(held)
	if waited {
		s.log.Info("upload waited for the upload memory budget", logkey.Customer, srv.Customer, logkey.Server, srv.Name,
			logkey.LimitBytes, s.budget.limit, logkey.RemoteAddr, ctx.RemoteAddr().String())
	}
	if src.granted != nil {
		src.granted()
	}

	start := time.Now()
	// The server's normal, for the statistical warnings, is read while
	// the report streams in: it depends on the server and the night only.
	baseNight := store.NightOf(s.db.Now(), s.cfg.Location)
	baseline := make(chan baselineRead, 1)
	go func() {
		b, err := s.db.Baseline(context.WithoutCancel(ctx), srv.ID, baseNight)
		baseline <- baselineRead{b, err}
	}()
	baselineTaken := false
	defer func() {
		if !baselineTaken {
			<-baseline // not left running after the upload
		}
	}()
	keeper := newLogKeeper(s.db, s.cfg.MaxLogBytes)
	stored := false
	defer func() {
		if !stored {
			if err := keeper.discard(); err != nil {
				s.log.Error("discard log of upload not stored", logkey.Customer, srv.Customer, logkey.Server, srv.Name, logkey.Err, err)
			}
		}
	}()
	capped := &capReader{r: src.r, max: s.cfg.MaxUploadBytes}
	res, readErr := parser.Parse(io.TeeReader(capped, keeper))
	s.metrics.UploadBytes.Add(float64(capped.n))
	var failure error
	if src.failed != nil {
		failure = src.failed()
	}
	// An upload that reached its end is whole if the client ended it on
	// purpose, which for an exec upload takes a round trip (connAlive):
	// the question is sent now, and the log finished while it travels.
	complete := src.complete
	if readErr == nil && !capped.exceeded && failure == nil && complete != nil {
		answer := make(chan bool, 1)
		go func() { answer <- src.complete() }()
		complete = func() bool { return <-answer } // called once, below
	}
	kept, keptErr := keeper.finish()

	u := store.Upload{
		ServerID: srv.ID, KeyID: &id.key.ID, ReceivedAt: s.db.Now(), Source: store.SourceUpload, Protocol: src.protocol,
		RemoteAddr: ctx.RemoteAddr().String(), ClientVersion: ctx.ClientVersion(), KeyType: id.key.Type, UploadBytes: capped.n,
		Exceptions: exs, Register: register,
	}
	u.Night = store.NightOf(u.ReceivedAt, s.cfg.Location)
	// How the upload ended is a fact stored with the result: parser.Judge
	// turns it and the text into the verdict, here and at every later
	// judgment.
	u.End = parser.EndComplete
	var refused error
	switch {
	case capped.exceeded:
		u.End = parser.EndTooLarge
		u.Reason = fmt.Sprintf("upload larger than the %d-byte limit; parsing stopped there", s.cfg.MaxUploadBytes)
		refused = refuse("too_large", "upload refused: larger than the %d-byte limit (--max-upload-bytes); recorded as failed", s.cfg.MaxUploadBytes)
	case errors.Is(readErr, errUploadTime):
		u.End = parser.EndTimeLimit
		u.Reason = fmt.Sprintf("upload took longer than the %s limit; parsing stopped there", s.cfg.MaxUploadTime)
		refused = refuse("time_limit", "upload refused: it took longer than the %s limit (--max-upload-time); recorded as failed", s.cfg.MaxUploadTime)
	case failure != nil:
		s.log.Info("upload ended by the client with an error; nothing stored", logkey.Customer, srv.Customer, logkey.Server, srv.Name,
			logkey.Protocol, src.protocol, logkey.RemoteAddr, u.RemoteAddr, logkey.Err, failure)
		return "", failure
	case readErr != nil || (complete != nil && !complete()):
		if s.isClosing() {
			// We cut it off at shutdown: not the customer's doing, so
			// store nothing; the client sees an error and can retry.
			return "", errShuttingDown
		}
		u.End = parser.EndInterrupted
		u.Reason = "the connection ended before the upload was complete"
	}
	// The server's normal, for the statistical warnings: a fact stored
	// with the result. Without it (a database error) the upload is still
	// judged and stored, with the log's own warnings only.
	b := <-baseline
	baselineTaken = true
	if u.Night != baseNight { // the night turned while it streamed in
		b.b, b.err = s.db.Baseline(context.WithoutCancel(ctx), srv.ID, u.Night)
	}
	if u.Baseline, err = b.b, b.err; err != nil {
		s.log.Error("read server's normal for warnings", logkey.Customer, srv.Customer, logkey.Server, srv.Name, logkey.Err, err)
	}
	parser.Judge(res, parser.Facts{End: u.End, Baseline: u.Baseline, Thresholds: s.db.Thresholds}, store.Patterns(exs))
	u.Result = res
	if u.Log, err = kept, keptErr; err != nil {
		s.metrics.Uploads.WithLabelValues("error").Inc()
		s.log.Error("store upload log", logkey.Customer, srv.Customer, logkey.Server, srv.Name, logkey.Err, err)
		return "", errStoreFailed
	}
	// Store even when the client has gone: an interrupted upload is kept.
	saveCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	u.Login = id.takeLogin()
	// A key revoked while it uploaded stores nothing: StoreUpload checks
	// it with the commit (u.KeyID).
	saved, err := s.db.StoreUpload(saveCtx, u)
	if err != nil {
		if u.Login != nil {
			s.saveLogin(&identity{login: u.Login})
		}
		if errors.Is(err, store.ErrKeyRevoked) {
			return "", errRevoked
		}
		s.metrics.Uploads.WithLabelValues("error").Inc()
		s.log.Error("store upload", logkey.Customer, srv.Customer, logkey.Server, srv.Name, logkey.Err, err)
		return "", errStoreFailed
	}
	stored = true
	resultID := saved.ResultID
	if register != nil {
		srv = saved.Server
	}
	if saved.Registered {
		s.log.Info("server registered by upload", logkey.Customer, srv.Customer, logkey.Server, srv.Name)
	}
	s.metrics.ParseDuration.Observe(time.Since(start).Seconds())
	s.enforceQuota(ctx, id.key.CustomerID, u.Log.StoredBytes())
	label := string(res.Status)
	if u.End == parser.EndInterrupted {
		label = "interrupted"
	}
	s.metrics.Uploads.WithLabelValues(label).Inc()
	for _, w := range res.Warnings {
		s.metrics.Warnings.WithLabelValues(string(w.Kind)).Inc()
		s.log.Warn("early warning", logkey.Customer, srv.Customer, logkey.Server, srv.Name, logkey.ResultID, resultID,
			logkey.Kind, w.Kind, logkey.Warning, w.Message)
	}
	failing, excepted, vanished := store.CountFileErrors(res.FileErrors)
	s.log.Info("report stored", logkey.Customer, srv.Customer, logkey.Server, srv.Name, logkey.ResultID, resultID, logkey.Code, res.Code,
		logkey.Status, res.Status, logkey.FileErrors, failing, logkey.ExceptedErrors, excepted, logkey.Bytes, capped.n,
		logkey.Interrupted, u.End == parser.EndInterrupted, logkey.Ended, u.End, logkey.Protocol, src.protocol, logkey.RemoteAddr, u.RemoteAddr)
	if refused != nil {
		return "", refused
	}
	receipt := fmt.Sprintf("backupreport: stored %s/%s: code %d %s, %d file errors (%d excepted), %d bytes",
		srv.Customer, srv.Name, res.Code, res.Status, failing+excepted, excepted, capped.n)
	if vanished > 0 {
		receipt += fmt.Sprintf(", %d vanished", vanished)
	}
	return receipt, nil
}

// baselineRead is a server's normal as read for an upload (see upload).
type baselineRead struct {
	b   *parser.Baseline
	err error
}

// connAlive returns a check that the client is still connected after its
// stream ended: an interrupted exec upload looks like EOF too. It asks the
// client for a reply to a keepalive, which every client gives.
func connAlive(ctx ssh.Context) func() bool {
	return func() bool {
		select {
		case <-ctx.Done(): // gliderlabs cancels it when the connection fails
			return false
		default:
		}
		conn, ok := ctx.Value(ssh.ContextKeyConn).(gossh.Conn)
		if !ok {
			return true
		}
		errc := make(chan error, 1)
		go func() {
			_, _, err := conn.SendRequest("keepalive@openssh.com", true, nil)
			errc <- err
		}()
		select {
		case err := <-errc:
			return err == nil
		case <-time.After(30 * time.Second):
			return false
		}
	}
}
