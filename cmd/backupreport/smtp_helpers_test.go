package main

import (
	"io"
	"net"
	"sync"
	"testing"

	"github.com/emersion/go-smtp"
)

// testSMTP is a go-smtp server on 127.0.0.1 that keeps messages and can
// refuse one recipient.
type testSMTP struct {
	addr   string
	mu     sync.Mutex
	msgs   []testMsg
	reject string
}

type testMsg struct {
	to   []string
	data string
}

func startTestSMTP(t *testing.T) *testSMTP {
	t.Helper()
	ts := &testSMTP{}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &testSession{ts: ts}, nil }))
	srv.Domain, srv.AllowInsecureAuth = "localhost", true
	srv.ErrorLog = slogLogger{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts.addr = ln.Addr().String()
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ts
}

type slogLogger struct{}

func (slogLogger) Printf(string, ...any) {}
func (slogLogger) Println(...any)        {}

type testSession struct {
	ts  *testSMTP
	cur testMsg
}

func (s *testSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *testSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if to == s.ts.reject {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
	}
	s.cur.to = append(s.cur.to, to)
	return nil
}
func (s *testSession) Data(r io.Reader) error {
	b, _ := io.ReadAll(r)
	s.cur.data = string(b)
	s.ts.mu.Lock()
	s.ts.msgs = append(s.ts.msgs, s.cur)
	s.ts.mu.Unlock()
	return nil
}
func (s *testSession) Reset()        { s.cur = testMsg{} }
func (s *testSession) Logout() error { return nil }

func (ts *testSMTP) messages() []testMsg {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]testMsg(nil), ts.msgs...)
}
