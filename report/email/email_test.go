package email

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	netmail "net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/backupreport/backupreport/parser"
	"github.com/backupreport/backupreport/store"
)

// received is one message the test SMTP server accepted.
type received struct {
	from string
	to   []string
	data []byte
}

// smtpServer is a real SMTP server on 127.0.0.1 (emersion/go-smtp) that
// keeps what it receives and can refuse or drop on demand.
type smtpServer struct {
	addr string
	srv  *smtp.Server

	mu         sync.Mutex
	msgs       []received
	rejectRcpt string // RCPT TO this address gets 550
	dropMails  int    // the first dropMails MAIL commands drop the connection
	mails      int
	authUser   string // set: require this user with password "secret"
	authed     []string
}

func startSMTP(t *testing.T, tlsConfig *tls.Config) *smtpServer {
	t.Helper()
	s := &smtpServer{}
	s.srv = smtp.NewServer(s)
	s.srv.Domain = "localhost"
	s.srv.AllowInsecureAuth = tlsConfig == nil
	s.srv.TLSConfig = tlsConfig
	s.srv.ReadTimeout, s.srv.WriteTimeout = 5*time.Second, 5*time.Second
	s.srv.ErrorLog = nopLogger{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = ln.Addr().String()
	go s.srv.Serve(ln)
	t.Cleanup(func() { s.srv.Close() })
	return s
}

type nopLogger struct{}

func (nopLogger) Printf(string, ...any) {}
func (nopLogger) Println(...any)        {}

func (s *smtpServer) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{srv: s, conn: c}, nil
}

func (s *smtpServer) messages() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.msgs...)
}

type session struct {
	srv  *smtpServer
	conn *smtp.Conn
	cur  received
	user string
}

func (ss *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (ss *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != ss.srv.authUser || password != "secret" {
			return errors.New("bad credentials")
		}
		ss.user = username
		ss.srv.mu.Lock()
		ss.srv.authed = append(ss.srv.authed, username)
		ss.srv.mu.Unlock()
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	s := ss.srv
	s.mu.Lock()
	s.mails++
	drop := s.mails <= s.dropMails
	s.mu.Unlock()
	if drop {
		ss.conn.Conn().Close()
		return errors.New("dropped")
	}
	if s.authUser != "" && ss.user == "" {
		return &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "authentication required"}
	}
	ss.cur = received{from: from}
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if to == ss.srv.rejectRcpt {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user here"}
	}
	ss.cur.to = append(ss.cur.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	ss.cur.data = b
	ss.srv.mu.Lock()
	ss.srv.msgs = append(ss.srv.msgs, ss.cur)
	ss.srv.mu.Unlock()
	return nil
}

func (ss *session) Reset()        { ss.cur = received{} }
func (ss *session) Logout() error { return nil }

// parts parses a received message into its headers and its decoded
// text/plain and text/html parts.
func parts(t *testing.T, data []byte) (netmail.Header, string, string) {
	t.Helper()
	m, err := netmail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type = %q, want multipart/alternative", m.Header.Get("Content-Type"))
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	var text, html string
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p)
		ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		switch ct {
		case "text/plain":
			text = string(b)
		case "text/html":
			html = string(b)
		}
	}
	return m.Header, text, html
}

const hostile = `<script>alert(1)</script>`

func testReport() Report {
	id := int64(42)
	at := time.Date(2026, 11, 26, 2, 14, 0, 0, time.UTC)
	return Report{
		Kind: store.ReportDaily, At: time.Date(2026, 11, 26, 7, 15, 0, 0, time.UTC), Location: time.UTC,
		BaseURL: "https://backups.example.com/",
		Failures: []store.FailureEntry{
			{ServerID: 1, Customer: "acme", Server: hostile, Status: "failed", Code: 23, ResultID: &id, ReceivedAt: &at, FileErrors: 2, OnIt: "alice", Nights: 3},
			{ServerID: 2, Customer: "beta", Server: "fs01", Status: "missing", Code: -2, Nights: 1},
		},
		Recovered: []store.FailureEntry{{ServerID: 3, Customer: "acme", Server: "dc01", Status: "ok", Nights: 2}},
	}
}

func TestRenderGroupsExplainsEscapesAndLinks(t *testing.T) {
	m, err := Render(testReport())
	if err != nil {
		t.Fatal(err)
	}
	if want := "Daily failure report 2026-11-26: 1 failed, 1 missing, 1 recovered"; m.Subject != want {
		t.Errorf("subject = %q, want %q", m.Subject, want)
	}
	if strings.Contains(m.HTML, hostile) {
		t.Errorf("HTML part contains the hostile server name unescaped:\n%s", m.HTML)
	}
	for _, want := range []string{
		"&lt;script&gt;alert(1)&lt;/script&gt;",
		`href="https://backups.example.com/results/42"`,
		`href="https://backups.example.com/servers/acme/%3Cscript%3Ealert%281%29%3C%2Fscript%3E"`,
		"some files/attrs were not transferred", "alice", "nobody yet", "3 nights in a row", "Recovered", "dc01",
	} {
		if !strings.Contains(m.HTML, want) {
			t.Errorf("HTML part lacks %q", want)
		}
	}
	for _, want := range []string{"== acme ==", "== beta ==", hostile, "https://backups.example.com/results/42",
		"What to do:", "On it:      alice", "On it:      nobody yet", "acme/dc01: ok again after 2 failed nights"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("text part lacks %q:\n%s", want, m.Text)
		}
	}
	if strings.Index(m.Text, "== acme ==") > strings.Index(m.Text, "== beta ==") {
		t.Error("customers are not in order")
	}
	empty, _ := Render(Report{Kind: store.ReportThreeDay, At: time.Now()})
	if !strings.Contains(empty.Subject, "Three-day failure report") || !strings.Contains(empty.Subject, "nothing failed") ||
		!strings.Contains(empty.Text, "Nothing failed") {
		t.Errorf("empty report = %q / %q", empty.Subject, empty.Text)
	}
}

func TestForCustomersKeepsOnlyTheirServers(t *testing.T) {
	r := testReport().ForCustomers([]string{"BETA"})
	if len(r.Failures) != 1 || r.Failures[0].Server != "fs01" || len(r.Recovered) != 0 {
		t.Errorf("ForCustomers(beta) = %+v", r)
	}
}

func TestSendDeliversBothPartsToEveryRecipient(t *testing.T) {
	s := startSMTP(t, nil)
	m, _ := Render(testReport())
	to := []string{"team@example.com", "alice@example.com"}
	cfg := Config{Addr: s.addr, TLS: TLSNone, From: "backupreport@example.com", Timeout: 5 * time.Second}
	if err := Send(context.Background(), cfg, to, m); err != nil {
		t.Fatal(err)
	}
	msgs := s.messages()
	if len(msgs) != 1 {
		t.Fatalf("server received %d messages, want 1", len(msgs))
	}
	got := msgs[0]
	if got.from != cfg.From || strings.Join(got.to, ",") != strings.Join(to, ",") {
		t.Errorf("envelope from %q to %v, want %q to %v", got.from, got.to, cfg.From, to)
	}
	h, text, html := parts(t, got.data)
	if subj, _ := new(mime.WordDecoder).DecodeHeader(h.Get("Subject")); subj != m.Subject {
		t.Errorf("Subject = %q, want %q", subj, m.Subject)
	}
	text, html = normalize(text), normalize(html)
	if text != normalize(m.Text) {
		t.Errorf("text part differs:\n%s\nwant:\n%s", text, m.Text)
	}
	if html != normalize(m.HTML) {
		t.Errorf("HTML part differs")
	}
	if strings.Contains(html, hostile) || !strings.Contains(html, "https://backups.example.com/results/42") {
		t.Errorf("HTML part as received is not escaped or lacks the link")
	}
}

func TestSendOverSTARTTLSWithAuthentication(t *testing.T) {
	cert, pool := selfSigned(t)
	s := startSMTP(t, &tls.Config{Certificates: []tls.Certificate{cert}})
	s.authUser = "mailer"
	m, _ := Render(testReport())
	cfg := Config{Addr: s.addr, TLS: TLSStartTLS, From: "br@example.com", User: "mailer", Password: "secret",
		TLSConfig: &tls.Config{RootCAs: pool, ServerName: "localhost"}, Timeout: 5 * time.Second}
	if err := Send(context.Background(), cfg, []string{"team@example.com"}, m); err != nil {
		t.Fatal(err)
	}
	if len(s.messages()) != 1 || len(s.authed) != 1 {
		t.Errorf("messages %d, logins %v; want 1 message after a login", len(s.messages()), s.authed)
	}
	cfg.Password = "wrong"
	if err := Send(context.Background(), cfg, []string{"team@example.com"}, m); err == nil {
		t.Error("wrong password: want an error")
	}
	// starttls must not fall back to plain text when the server offers no TLS.
	plain := startSMTP(t, nil)
	cfg = Config{Addr: plain.addr, TLS: TLSStartTLS, From: "br@example.com", Timeout: 5 * time.Second}
	if err := Send(context.Background(), cfg, []string{"team@example.com"}, m); err == nil || len(plain.messages()) != 0 {
		t.Errorf("starttls against a server without it: err %v, %d messages; want a refusal", err, len(plain.messages()))
	}
}

func TestRefusedRecipientIsReportedClearly(t *testing.T) {
	s := startSMTP(t, nil)
	s.rejectRcpt = "nobody@example.com"
	m, _ := Render(testReport())
	cfg := Config{Addr: s.addr, TLS: TLSNone, From: "br@example.com", Timeout: 5 * time.Second}
	err := Send(context.Background(), cfg, []string{"nobody@example.com"}, m)
	if err == nil || !strings.Contains(err.Error(), "550") || !strings.Contains(err.Error(), "nobody@example.com") {
		t.Errorf("err = %v, want a clear 550 naming the recipient", err)
	}
	if len(s.messages()) != 0 {
		t.Error("a message was accepted")
	}
}

// Send makes one attempt; notify.Retry makes more (see its tests).
func TestDroppedConnectionFailsThatAttemptOnly(t *testing.T) {
	s := startSMTP(t, nil)
	s.dropMails = 2
	m, _ := Render(testReport())
	cfg := Config{Addr: s.addr, TLS: TLSNone, From: "br@example.com", Timeout: 5 * time.Second}
	var errs []error
	for range 3 {
		errs = append(errs, Send(context.Background(), cfg, []string{"team@example.com"}, m))
	}
	if errs[0] == nil || errs[1] == nil || errs[2] != nil {
		t.Errorf("attempt errors = %v, want two failures then success", errs)
	}
	if len(s.messages()) != 1 {
		t.Errorf("messages = %d, want 1", len(s.messages()))
	}
	// Nobody listening at all: a clear error naming the address.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	cfg.Addr = addr
	if err := Send(context.Background(), cfg, []string{"team@example.com"}, m); err == nil || !strings.Contains(err.Error(), addr) {
		t.Errorf("closed port: err = %v, want one naming %s", err, addr)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []Config{{Addr: "mail", From: "a@b"}, {Addr: "mail:0", From: "a@b"}, {Addr: "mail:25", TLS: "ssl", From: "a@b"}, {Addr: "mail:25"}} {
		if err := c.Validate(); err == nil {
			t.Errorf("Validate(%+v) = nil, want an error", c)
		}
	}
	if err := (Config{Addr: "mail:587", From: "a@b"}).Validate(); err != nil {
		t.Errorf("valid config: %v", err)
	}
}

func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"}, DNSNames: []string{"localhost"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(c)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

// normalize undoes the transport's changes: CRLF line ends and a final newline.
func normalize(s string) string {
	return strings.TrimRight(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
}

// A server whose night is ok but warned is listed in its own section with
// the warning's texts (staff's edit winning) and a link to it.
func TestRenderListsWarnedServers(t *testing.T) {
	r := testReport()
	id := int64(77)
	r.Warned = []store.FailureEntry{{Customer: "acme", Server: "docs", Status: parser.StatusOK, ResultID: &id,
		Warnings: []store.Warning{{ID: 5, ResultID: id, Kind: parser.WarningSizeDrop, Message: "total size 10.0 GiB is 70% below this server's median of 33.0 GiB (14 nights)"}}}}
	r.WarningTexts = parser.NewWarningTable(map[parser.WarningKind]parser.WarningInfo{
		parser.WarningSizeDrop: {Kind: parser.WarningSizeDrop, Name: "backup shrank", Meaning: "Less data.", Action: "Call <the> customer."}})
	m, err := Render(r)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(m.Subject, ", 1 with warnings") {
		t.Errorf("subject = %q", m.Subject)
	}
	for _, want := range []string{"== Warnings ==", "acme/docs: ok, code 0", "WARNING backup shrank: total size 10.0 GiB is 70% below",
		"What to do: Call <the> customer.", "https://backups.example.com/results/77#warn-size_drop"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("text part lacks %q:\n%s", want, m.Text)
		}
	}
	for _, want := range []string{"Call &lt;the&gt; customer.", `href="https://backups.example.com/results/77#warn-size_drop"`} {
		if !strings.Contains(m.HTML, want) {
			t.Errorf("HTML part lacks %q", want)
		}
	}
	if r.ForCustomers([]string{"beta"}).Warned != nil {
		t.Error("ForCustomers kept another customer's warning")
	}
	if only := (Report{Warned: r.Warned}); only.Empty() {
		t.Error("a report with only warnings is empty")
	}
}
