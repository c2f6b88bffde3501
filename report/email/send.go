package email

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	mail "github.com/wneessen/go-mail"
)

// TLS modes of the SMTP connection.
const (
	TLSNone     = "none"     // plain text; for a relay on the same machine
	TLSStartTLS = "starttls" // upgrade with STARTTLS, and fail if it is not offered
	TLSImplicit = "tls"      // TLS from the first byte (SMTPS, usually port 465)
)

// Config is how to reach the SMTP server.
type Config struct {
	Addr     string // HOST:PORT
	TLS      string // TLSNone, TLSStartTLS or TLSImplicit; empty means TLSStartTLS
	User     string // empty: no authentication
	Password string
	From     string
	// TLSConfig overrides the TLS settings (tests use it to trust their
	// own certificate); its ServerName defaults to the host of Addr.
	TLSConfig *tls.Config
	Timeout   time.Duration // per connection; 0 means 30 seconds
}

// Validate checks a configuration before the first send.
func (c Config) Validate() error {
	host, port, err := net.SplitHostPort(c.Addr)
	if err != nil || host == "" {
		return fmt.Errorf("smtp address %q: want HOST:PORT", c.Addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("smtp address %q: bad port", c.Addr)
	}
	switch c.TLS {
	case "", TLSNone, TLSStartTLS, TLSImplicit:
	default:
		return fmt.Errorf("smtp tls %q: want none, starttls or tls", c.TLS)
	}
	if c.From == "" {
		return errors.New("smtp from address is empty")
	}
	return nil
}

// Build makes the go-mail message for m to recipients: multipart/alternative
// with the plain-text part first and the HTML part second.
func Build(from string, to []string, m Message) (*mail.Msg, error) {
	msg := mail.NewMsg()
	if err := msg.From(from); err != nil {
		return nil, fmt.Errorf("from address %q: %w", from, err)
	}
	if err := msg.To(to...); err != nil {
		return nil, fmt.Errorf("recipients %s: %w", strings.Join(to, ", "), err)
	}
	msg.Subject(m.Subject)
	msg.SetDate()
	msg.SetMessageID()
	msg.SetGenHeader(mail.HeaderXMailer, "backupreport")
	msg.SetBodyString(mail.TypeTextPlain, m.Text)
	msg.AddAlternativeString(mail.TypeTextHTML, m.HTML)
	return msg, nil
}

// WritePreview writes what would be sent, readable: the envelope, the
// subject and both parts undecoded, for --dry-run.
func WritePreview(w io.Writer, from string, to []string, m Message) error {
	_, err := fmt.Fprintf(w, "From: %s\nTo: %s\nSubject: %s\n\n--- text/plain ---\n%s\n--- text/html ---\n%s\n",
		from, strings.Join(to, ", "), m.Subject, m.Text, m.HTML)
	return err
}

// Send makes one attempt to deliver m to recipients.
func Send(ctx context.Context, c Config, to []string, m Message) error {
	if err := c.Validate(); err != nil {
		return err
	}
	if len(to) == 0 {
		return errors.New("no recipients")
	}
	msg, err := Build(c.From, to, m)
	if err != nil {
		return err
	}
	host, portStr, _ := net.SplitHostPort(c.Addr)
	port, _ := strconv.Atoi(portStr)
	timeout := c.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	opts := []mail.Option{mail.WithPort(port), mail.WithTimeout(timeout), mail.WithHELO("backupreport")}
	switch c.TLS {
	case TLSNone:
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	case TLSImplicit:
		opts = append(opts, mail.WithSSL())
	default:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	}
	tc := c.TLSConfig
	if tc == nil {
		tc = &tls.Config{MinVersion: tls.VersionTLS12}
	} else {
		tc = tc.Clone()
	}
	if tc.ServerName == "" {
		tc.ServerName = host
	}
	opts = append(opts, mail.WithTLSConfig(tc))
	if c.User != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover), mail.WithUsername(c.User), mail.WithPassword(c.Password))
	}
	client, err := mail.NewClient(host, opts...)
	if err != nil {
		return fmt.Errorf("smtp client for %s: %w", c.Addr, err)
	}
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("send to %s via %s: %w", strings.Join(to, ", "), c.Addr, err)
	}
	return nil
}
