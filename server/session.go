package server

import (
	"fmt"
	"io"
	"strings"

	"github.com/gliderlabs/ssh"

	"github.com/backupreport/backupreport/keys"
	"github.com/backupreport/backupreport/store/logkey"
	"github.com/backupreport/backupreport/store/names"
)

// refusal is an upload or request refused: a message for the client and a
// reason for the logs and metrics.
type refusal struct {
	reason string // short, for the metric label
	msg    string // one line for the client
}

func (r *refusal) Error() string { return r.msg }

func refuse(reason, format string, args ...any) *refusal {
	return &refusal{reason: reason, msg: fmt.Sprintf(format, args...)}
}

// handleSession serves one exec request: the report upload, as
// "cat > /reports/C/S.out" or the "scp -t" sink. Anything else is refused
// with one line on stderr and exit status 1, unless the key has a forced
// command (see forcedCommand): then any command, or a shell request,
// uploads the session's input to the key's server.
func (s *Server) handleSession(sess ssh.Session) {
	s.metrics.OpenSessions.Inc()
	defer s.metrics.OpenSessions.Dec()
	// The whole session counts as in flight, receipt and exit status
	// included: shutdown waits for it before closing connections.
	if !s.begin() {
		s.finish(sess, errShuttingDown)
		return
	}
	defer s.inflight.Done()
	id, _ := sess.Context().Value(ctxVerifiedKey).(*identity)
	if id == nil { // cannot happen: every login goes through the verified-key callback
		s.finish(sess, refuse("no_identity", "login not verified"))
		return
	}
	if s.keyRevokedSince(sess.Context(), id, keyFresh) {
		s.finish(sess, errRevoked)
		return
	}
	if _, _, isPty := sess.Pty(); isPty {
		s.finish(sess, refuse("pty", "interactive terminals are not offered here; this server only accepts report uploads"))
		return
	}
	if x11, _ := sess.Context().Value(ctxX11).(bool); x11 {
		s.finish(sess, refuse("x11", "X11 forwarding is not offered here; connect without -X"))
		return
	}
	if fwd, _ := sess.Context().Value(ctxForward).(bool); fwd {
		s.finish(sess, refuse("forwarding", "port forwarding is not offered here; connect without -R or -L"))
		return
	}
	if ssh.AgentRequested(sess) {
		s.finish(sess, refuse("agent", "agent forwarding is not offered here; connect without -A (ForwardAgent no)"))
		return
	}
	raw := sess.RawCommand()
	if target, ok := scpSinkTarget(raw); ok {
		s.handleSCP(sess, id, target)
		return
	}
	var cmd Command
	if id.key.ForcedCommand != "" {
		c, err := s.forcedCommand(sess, id, raw)
		if err != nil {
			s.finish(sess, err)
			return
		}
		cmd = c
	} else {
		if strings.TrimSpace(raw) == "" {
			s.finish(sess, refuse("shell", "shells are not offered here; upload a report with: cat > /reports/<customer>/<server>.out"))
			return
		}
		c, err := ParseCommand(raw)
		if err != nil {
			s.finish(sess, refuse("command", "command refused: %v; upload a report with: cat > /reports/<customer>/<server>.out", err))
			return
		}
		cmd = c
	}
	receipt, err := s.upload(sess.Context(), id, cmd.Path, source{r: sess, protocol: "exec", complete: connAlive(sess.Context())})
	if err != nil {
		s.finish(sess, err)
		return
	}
	// The receipt, the exit status and the channel's close leave in one
	// write (see corkConn).
	corked(sess, func() {
		io.WriteString(sess.Stderr(), receipt+"\n")
		sess.Exit(0)
	})
}

// forcedCommand returns what a key with a forced command runs, whatever
// the client asked for (raw: an exec command, or "" for a shell request),
// as OpenSSH ran an authorized_keys command= option: the session's input
// goes to the key's own server, by its current name (a renamed server
// keeps its key working; the stored command shows what was imported). The
// client's command is logged, not parsed; only the scp sink (handled
// before) and the sftp subsystem keep their own protocols, with the key's
// binding.
func (s *Server) forcedCommand(sess ssh.Session, id *identity, raw string) (Command, error) {
	if id.key.Server == "" { // AddKey allows a forced command only on a server-bound key
		return Command{}, refuse("forced_command", "this key's forced command names no server; ask your MSP")
	}
	if len(raw) > 200 {
		raw = raw[:200] + "..."
	}
	s.log.Info("ssh forced command", logkey.RemoteAddr, sess.RemoteAddr().String(), logkey.Customer, id.key.Customer, logkey.Server, id.key.Server,
		logkey.Fingerprint, id.key.Fingerprint, logkey.ClientCommand, raw, logkey.ForcedCommand, id.key.ForcedCommand)
	return Command{Path: "/reports/" + id.key.Customer + "/" + id.key.Server + ".out"}, nil
}

// refuseSubsystem answers every subsystem but sftp.
func (s *Server) refuseSubsystem(sess ssh.Session) {
	s.finish(sess, refuse("subsystem", "the %q subsystem is not offered here; upload with sftp, scp or cat > /reports/<customer>/<server>.out", sess.Subsystem()))
}

// errRevoked refuses sessions and uploads of a key revoked after its login.
var errRevoked = refuse("revoked", "this key was revoked; nothing was stored; ask your MSP for a new key")

// errShuttingDown refuses sessions that start after shutdown began.
var errShuttingDown = refuse("shutdown", "the server is shutting down; nothing was stored; run the upload again in a minute")

// finish ends a session that failed, with one line on stderr.
func (s *Server) finish(sess ssh.Session, err error) {
	s.noteRefusal(sess, err)
	corked(sess, func() {
		fmt.Fprintf(sess.Stderr(), "backupreport: %v\n", err)
		sess.Exit(1)
	})
}

// noteRefusal logs a refused or failed request and counts refusals.
func (s *Server) noteRefusal(sess ssh.Session, err error) {
	reason := "error"
	if r, ok := err.(*refusal); ok {
		reason = r.reason
		s.metrics.Refused.WithLabelValues(reason).Inc()
	}
	s.log.Info("ssh request refused", logkey.RemoteAddr, sess.RemoteAddr().String(), logkey.Reason, reason, logkey.Err, err)
}

// target resolves an upload path for an identity: the path must name the
// key's own customer, and a server-bound key its own server.
func (s *Server) target(id *identity, path string) (customer, server string, err error) {
	customer, server, err = keys.ParseReportPath(path)
	if err != nil {
		return "", "", refuse("path", "%v", err)
	}
	if !names.Equal(customer, id.key.Customer) {
		return "", "", refuse("customer", "this key may not upload for customer %q", customer)
	}
	if id.key.Server != "" && !names.Equal(server, id.key.Server) {
		return "", "", refuse("server", "this key may only upload as server %q", id.key.Server)
	}
	return customer, server, nil
}
