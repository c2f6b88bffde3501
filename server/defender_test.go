package server

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"io"
	"log/slog"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/backupreport/backupreport/store"
	"github.com/backupreport/backupreport/store/metrics"
)

// fakeClock is a settable present for the defender.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock { return &fakeClock{t: time.Date(2026, 3, 20, 3, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func testDefender(db *store.DB, clock *fakeClock, cfg DefenderConfig) *Defender {
	if cfg.Threshold == 0 {
		cfg.Threshold = DefaultBanThreshold
	}
	cfg.Now, cfg.Logger = clock.Now, quiet
	return NewDefender(db, cfg)
}

func ip(s string) netip.Addr { return netip.MustParseAddr(s) }

func TestDefenderBansAtTheThresholdWithinTheWindow(t *testing.T) {
	clock := newClock()
	d := testDefender(nil, clock, DefenderConfig{})
	a := ip("203.0.113.7")
	for i := 1; i <= 4; i++ { // 4 refused keys score 8 of 10
		if d.Fail(a, ScoreRefusedKey, eventKey) || d.Refuse(a) {
			t.Fatalf("banned after %d refused keys, want only after 5", i)
		}
		clock.Add(time.Minute)
	}
	if !d.Fail(a, ScoreRefusedKey, eventKey) || !d.Refuse(a) {
		t.Fatal("not banned at a score of 10 within 10 minutes")
	}
	if d.Refuse(ip("203.0.113.8")) {
		t.Error("the neighbouring address is banned too")
	}
	bs := d.Bans()
	if len(bs) != 1 || bs[0].Address != "203.0.113.7" || bs[0].Level != 1 || bs[0].Score != 10 ||
		bs[0].Until.Sub(bs[0].Since) != DefaultBanTime || bs[0].Reason != "5 refused keys within 10m" {
		t.Errorf("bans = %+v", bs)
	}
	clock.Add(DefaultBanTime)
	if d.Refuse(a) {
		t.Error("still banned when the ban time is over")
	}

	// Failures spread wider than the window never add up.
	b := ip("198.51.100.1")
	for i := 0; i < 30; i++ {
		if d.Fail(b, ScoreRefusedKey, eventKey) {
			t.Fatalf("banned after %d refused keys 3 minutes apart", i+1)
		}
		clock.Add(3 * time.Minute)
	}
}

func TestDefenderBanTimeDoublesOnRepeatUpToTheMaximum(t *testing.T) {
	clock := newClock()
	d := testDefender(nil, clock, DefenderConfig{Threshold: 2, BanTime: 15 * time.Minute, MaxBanTime: 2 * time.Hour, Memory: 24 * time.Hour})
	a := ip("203.0.113.7")
	offend := func() store.Ban {
		t.Helper()
		if !d.Fail(a, ScoreRefusedKey, eventKey) {
			t.Fatal("not banned")
		}
		b := d.Bans()[0]
		clock.Add(b.Until.Sub(b.Since) + time.Minute)
		return b
	}
	for i, want := range []time.Duration{15 * time.Minute, 30 * time.Minute, time.Hour, 2 * time.Hour, 2 * time.Hour} {
		if b := offend(); b.Level != i+1 || b.Until.Sub(b.Since) != want {
			t.Errorf("offence %d: level %d for %v, want level %d for %v", i+1, b.Level, b.Until.Sub(b.Since), i+1, want)
		}
	}
	clock.Add(24 * time.Hour) // the memory of the last ban is gone
	if b := offend(); b.Level != 1 || b.Until.Sub(b.Since) != 15*time.Minute {
		t.Errorf("after the memory ran out: level %d for %v, want a first ban again", b.Level, b.Until.Sub(b.Since))
	}
}

func TestDefenderNeverBansTheAllowList(t *testing.T) {
	clock := newClock()
	db := openDB(t)
	db.SaveBan(context.Background(), store.Ban{Address: "10.1.2.3", Since: clock.Now(), Until: clock.Now().Add(time.Hour), Level: 1})
	d := testDefender(db, clock, DefenderConfig{Allow: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8::/32")}})
	if err := d.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{"10.1.2.3", "10.200.0.1", "2001:db8:5::1"} {
		for i := 0; i < 50; i++ {
			d.Fail(ip(a), ScoreRefusedKey, eventKey)
		}
		if d.Refuse(ip(a)) {
			t.Errorf("%s on the allow list is refused", a)
		}
	}
	if d.trackedCount() != 0 {
		t.Errorf("%d allowed addresses are scored", d.trackedCount())
	}
}

func TestDefenderGroupsIPv6By64(t *testing.T) {
	clock := newClock()
	d := testDefender(nil, clock, DefenderConfig{Threshold: 4})
	d.Fail(ip("2001:db8:1:2::1"), ScoreRefusedKey, eventKey)
	d.Fail(ip("2001:db8:1:2:ffff::9"), ScoreRefusedKey, eventKey)
	if !d.Refuse(ip("2001:db8:1:2:abcd::1")) {
		t.Error("two addresses of one /64 do not add up to a ban of the /64")
	}
	if d.Refuse(ip("2001:db8:1:3::1")) {
		t.Error("the next /64 is banned too")
	}
	if bs := d.Bans(); len(bs) != 1 || bs[0].Address != "2001:db8:1:2::/64" {
		t.Errorf("bans = %+v, want 2001:db8:1:2::/64", bs)
	}
	d.Fail(ip("::ffff:192.0.2.1"), ScoreRefusedKey, eventKey)
	d.Fail(ip("192.0.2.1"), ScoreRefusedKey, eventKey)
	if !d.Refuse(ip("192.0.2.1")) {
		t.Error("an IPv4-mapped IPv6 address does not count as its IPv4 address")
	}
}

func TestDefenderForgetsTheOldestBeyondItsBound(t *testing.T) {
	clock := newClock()
	d := testDefender(nil, clock, DefenderConfig{Threshold: 4, MaxTracked: 3})
	for _, a := range []string{"192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"} {
		d.Fail(ip(a), ScoreRefusedKey, eventKey)
		clock.Add(time.Second)
	}
	if n := d.trackedCount(); n != 3 {
		t.Errorf("%d addresses tracked, want the bound of 3", n)
	}
	if d.Fail(ip("192.0.2.1"), ScoreRefusedKey, eventKey) {
		t.Error("the evicted address kept its score")
	}
	if !d.Fail(ip("192.0.2.4"), ScoreRefusedKey, eventKey) {
		t.Error("a tracked address lost its score")
	}

	// Bans are bounded too: the one ending first makes room.
	d = testDefender(nil, clock, DefenderConfig{Threshold: 2, MaxBans: 2})
	for _, a := range []string{"192.0.2.1", "192.0.2.2", "192.0.2.3"} {
		d.Fail(ip(a), ScoreRefusedKey, eventKey)
		clock.Add(time.Second)
	}
	if got := len(d.Bans()); got != 2 || d.Refuse(ip("192.0.2.1")) || !d.Refuse(ip("192.0.2.3")) {
		t.Errorf("%d bans held, 192.0.2.1 refused %v; want 2, the first one dropped", got, d.Refuse(ip("192.0.2.1")))
	}
}

func TestDefenderForgivesALogin(t *testing.T) {
	clock := newClock()
	d := testDefender(nil, clock, DefenderConfig{Threshold: 6})
	a := ip("192.0.2.1")
	for i := 0; i < 10; i++ { // a client offering two other keys before the right one, night after night
		d.Fail(a, ScoreRefusedKey, eventKey)
		d.Fail(a, ScoreRefusedKey, eventKey)
		d.Forgive(a, 2*ScoreRefusedKey)
	}
	if d.Refuse(a) {
		t.Error("a client that logs in after refused keys got banned")
	}
}

func TestDefenderIsOffAtThresholdZero(t *testing.T) {
	d := NewDefender(nil, DefenderConfig{Threshold: -1, Logger: quiet})
	for i := 0; i < 100; i++ {
		d.Fail(ip("192.0.2.1"), ScoreRefusedKey, eventKey)
	}
	if d.Refuse(ip("192.0.2.1")) || d.Enabled() {
		t.Error("a disabled defender bans")
	}
	var nilD *Defender
	if nilD.Refuse(ip("192.0.2.1")) || nilD.Fail(ip("192.0.2.1"), 100, eventKey) {
		t.Error("the nil defender bans")
	}
}

func TestBanAddress(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"203.0.113.7", "203.0.113.7"},
		{" 203.0.113.7 ", "203.0.113.7"},
		{"203.0.113.7/32", "203.0.113.7"},
		{"::ffff:203.0.113.7", "203.0.113.7"},
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		{"2001:db8:1:2::/64", "2001:db8:1:2::/64"},
		{"2001:db8:1:2::/80", "2001:db8:1:2::/64"},
		{"fe80::1%eth0", "fe80::/64"},
		{"203.0.113.0/24", ""},
		{"2001:db8::/48", ""},
		{"example.com", ""},
	} {
		got, err := BanAddress(tc.in)
		if (err != nil) != (tc.want == "") || got != tc.want {
			t.Errorf("BanAddress(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func openDB(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestDefenderKeepsBansInTheStore(t *testing.T) {
	ctx := context.Background()
	clock := newClock()
	db := openDB(t)
	db.Now = clock.Now
	d := testDefender(db, clock, DefenderConfig{Threshold: 2})
	a := ip("203.0.113.7")
	d.Fail(a, ScoreRefusedKey, eventKey)

	// A restart: a new defender over the same store refuses the address.
	d2 := testDefender(db, clock, DefenderConfig{Threshold: 2})
	if d2.Refuse(a) {
		t.Fatal("refused before loading")
	}
	if err := d2.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if !d2.Refuse(a) {
		t.Fatal("the ban did not survive a restart")
	}

	// Lifted elsewhere (the CLI, another node): gone at the next reload.
	if err := db.LiftBan(ctx, "cli:root", "203.0.113.7"); err != nil {
		t.Fatal(err)
	}
	d2.Load(ctx)
	if d2.Refuse(a) {
		t.Error("a ban lifted in the store still refuses after a reload")
	}

	// The memory of an ended ban is loaded too: the next offence repeats.
	d2.Fail(a, ScoreRefusedKey, eventKey)
	clock.Add(DefaultBanTime + time.Minute)
	d3 := testDefender(db, clock, DefenderConfig{Threshold: 2})
	d3.Load(ctx)
	if !d3.Fail(a, ScoreRefusedKey, eventKey) || d3.Bans()[0].Level != 2 {
		t.Errorf("a repeat offence after a restart: %+v, want level 2", d3.Bans())
	}

	// Lifting through the defender ends it here and in the store at once.
	if err := d3.Lift(ctx, "web:alice", "203.0.113.7"); err != nil {
		t.Fatal(err)
	}
	if d3.Refuse(a) {
		t.Error("refused after Lift")
	}
	if bs, _ := db.ActiveBans(ctx); len(bs) != 0 {
		t.Errorf("the store still has %v", bs)
	}
}

// defendedServer starts an in-process server over a database with one
// customer whose key is returned, and a defender with threshold.
func defendedServer(t *testing.T, threshold int) (addr string, good gossh.Signer, s *Server, d *Defender, reg *metrics.Registry) {
	t.Helper()
	db, good, _ := testDB(t)
	reg = metrics.NewRegistry()
	d = NewDefender(db, DefenderConfig{Threshold: threshold, Logger: quiet, Registry: reg})
	s, addr = serveTest(t, db, Config{AutoRegister: true, Logger: quiet, Metrics: NewMetrics(reg), Defender: d})
	return addr, good, s, d, reg
}

func newSigner(t *testing.T) gossh.Signer {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	s, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func dial(addr string, signers ...gossh.Signer) (*gossh.Client, error) {
	return gossh.Dial("tcp", addr, &gossh.ClientConfig{User: "backup", Auth: []gossh.AuthMethod{gossh.PublicKeys(signers...)},
		HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: 10 * time.Second})
}

// TestFewUnknownKeyLoginsReachTheKeyCheck is the measure: of 2,000
// unknown-key logins from one source, at most 100 may reach the key check.
// With the default threshold, 5 do; the rest are closed at accept.
func TestFewUnknownKeyLoginsReachTheKeyCheck(t *testing.T) {
	addr, good, _, d, reg := defendedServer(t, DefaultBanThreshold)
	// A client that offers a stranger's key before its own logs in, and
	// its refused key is forgiven.
	for i := 0; i < 8; i++ {
		c, err := dial(addr, newSigner(t), good)
		if err != nil {
			t.Fatalf("login %d with a refused key first: %v", i, err)
		}
		c.Close()
	}
	stranger := newSigner(t)
	const logins = 2000
	for i := 0; i < logins; i++ {
		if c, err := dial(addr, stranger); err == nil {
			c.Close()
			t.Fatal("a stranger's key logged in")
		}
	}
	checked := metricValue(t, reg, "backupreport_ssh_auth_failures_total") - 8
	refused := metricValue(t, reg, "backupreport_ssh_ban_refused_total")
	t.Logf("of %d unknown-key logins, %.0f reached the key check, %.0f were closed at accept", logins, checked, refused)
	if checked > DefaultBanThreshold/ScoreRefusedKey {
		t.Errorf("%.0f logins reached the key check, want at most %d", checked, DefaultBanThreshold/ScoreRefusedKey)
	}
	// The address is banned: the customer's own key is refused now, at once.
	if c, err := dial(addr, good); err == nil {
		c.Close()
		t.Fatal("a banned address logged in with a good key")
	}
	if got := metricValue(t, reg, "backupreport_ssh_bans_total"); got != 1 {
		t.Errorf("bans started = %v, want 1", got)
	}
	var out bytes.Buffer
	for _, mf := range reg.Gather() {
		out.WriteString(mf.Name + " ")
	}
	for _, name := range []string{"backupreport_ssh_bans_total", "backupreport_ssh_ban_refused_total", "backupreport_ssh_banned_addresses"} {
		if !strings.Contains(out.String(), name) {
			t.Errorf("metric %s is not registered", name)
		}
	}
	if err := d.Lift(context.Background(), "test", "127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	c, err := dial(addr, good)
	if err != nil {
		t.Fatalf("the good key after the lift: %v", err)
	}
	c.Close()
}

// TestParallelLoginsAreCutOffOnceBanned: connections already past accept
// when the ban starts are closed at their first key, before the lookup.
func TestParallelLoginsAreCutOffOnceBanned(t *testing.T) {
	addr, _, _, _, reg := defendedServer(t, 4)
	stranger := newSigner(t)
	const parallel = 20
	ready, release := make(chan struct{}, parallel), make(chan struct{})
	errs := make(chan error, parallel)
	for i := 0; i < parallel; i++ {
		go func() {
			// The callback runs once the key exchange is done, just before
			// the first key is offered: hold every connection there.
			auth := gossh.PublicKeysCallback(func() ([]gossh.Signer, error) {
				ready <- struct{}{}
				<-release
				return []gossh.Signer{stranger}, nil
			})
			c, err := gossh.Dial("tcp", addr, &gossh.ClientConfig{User: "backup", Auth: []gossh.AuthMethod{auth},
				HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: 10 * time.Second})
			if err == nil {
				c.Close()
			}
			errs <- err
		}()
	}
	for i := 0; i < parallel; i++ {
		<-ready
	}
	for i := 0; i < 2; i++ { // 2 refused keys reach the threshold of 4
		if c, err := dial(addr, stranger); err == nil {
			c.Close()
		}
	}
	close(release)
	for i := 0; i < parallel; i++ {
		if err := <-errs; err == nil {
			t.Error("a parallel stranger logged in")
		}
	}
	if checked := metricValue(t, reg, "backupreport_ssh_auth_failures_total"); checked != 2 {
		t.Errorf("%.0f key lookups, want the 2 that started the ban: connections open before it reached the key check", checked)
	}
}

// metricValue reads a counter or gauge without labels from reg.
func metricValue(t *testing.T, reg *metrics.Registry, name string) float64 {
	t.Helper()
	for _, mf := range reg.Gather() {
		if mf.Name == name && len(mf.Samples) > 0 {
			return mf.Samples[0].Value
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

func TestDefenderSummarizesRefusalsInOneLine(t *testing.T) {
	var logs bytes.Buffer
	clock := newClock()
	d := NewDefender(nil, DefenderConfig{Threshold: 2, Now: clock.Now, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	d.Fail(ip("192.0.2.1"), ScoreRefusedKey, eventKey)
	d.Fail(ip("192.0.2.2"), ScoreRefusedKey, eventKey)
	for i := 0; i < 500; i++ {
		d.Refuse(ip("192.0.2.1"))
	}
	d.Refuse(ip("192.0.2.2"))
	d.summarize()
	d.summarize() // nothing new: no line
	if n := strings.Count(logs.String(), "ssh address banned"); n != 2 {
		t.Errorf("%d ban lines, want 2:\n%s", n, logs.String())
	}
	lines := strings.Count(logs.String(), "ssh connections refused while banned")
	if lines != 1 || !strings.Contains(logs.String(), "count=501 addresses=2 busiest=192.0.2.1 busiest_count=500") {
		t.Errorf("%d summary lines, want 1 with count=501 from 2 addresses:\n%s", lines, logs.String())
	}
}
