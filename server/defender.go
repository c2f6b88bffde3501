package server

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gliderlabs/ssh"

	"github.com/backupreport/backupreport/store"
	"github.com/backupreport/backupreport/store/logkey"
	"github.com/backupreport/backupreport/store/metrics"
)

// Defaults of DefenderConfig, in the spirit of fail2ban's sshd jail and
// SFTPGo's defender.
const (
	DefaultBanThreshold  = 10
	DefaultBanWindow     = 10 * time.Minute
	DefaultBanTime       = 15 * time.Minute
	DefaultBanMaxTime    = 24 * time.Hour
	DefaultBanMemory     = 7 * 24 * time.Hour
	DefaultBanMaxTracked = 10000
	DefaultBanMaxBans    = 10000
	DefaultBanReload     = 30 * time.Second
)

// Scores of the events that count against a source address.
const (
	// ScoreRefusedKey is an offered key that is unknown or revoked.
	ScoreRefusedKey = 2
	// ScoreFailedHandshake is a connection that sent something and ended
	// before it authenticated, without offering a refused key (a scanner,
	// a client that speaks no common algorithm, a signature that failed).
	// A connection that sends nothing at all (a TCP port check) scores 0.
	ScoreFailedHandshake = 1
)

// maxEventsPerAddress bounds the events kept for one address; older ones
// are merged when a large threshold would keep more.
const maxEventsPerAddress = 64

// DefenderConfig holds the defender's settings. cmd fills it from flags.
type DefenderConfig struct {
	// Threshold is the score within Window at which an address is banned.
	// 0 or less disables the defender: nothing is scored or refused.
	Threshold int
	Window    time.Duration
	// BanTime is the first ban's length; each repeat offence doubles it,
	// up to MaxBanTime.
	BanTime    time.Duration
	MaxBanTime time.Duration
	// Memory is how long after a ban ended a new one counts as a repeat.
	Memory time.Duration
	// Allow lists addresses never scored or banned.
	Allow []netip.Prefix
	// MaxTracked bounds the addresses being scored; beyond it the address
	// scored least recently is forgotten.
	MaxTracked int
	// MaxBans bounds the bans held (active or remembered); beyond it the
	// ban that ended (or ends) first is dropped.
	MaxBans int
	// Reload is how often Run reloads the bans from the store, so that a
	// ban lifted by another process (the CLI, another node) ends here too.
	Reload time.Duration
	// Shared, when set, shares the score with the other nodes on the
	// database (store.ScopeSSHBan, with a window of Window): an address
	// is banned when its score here plus its score on the others, as of
	// their last sync, reaches Threshold. The caller syncs it.
	Shared   *store.SharedCounts
	Logger   *slog.Logger
	Registry *metrics.Registry
	// Now returns the current time; tests replace it. Nil is time.Now.
	Now func() time.Time
}

// Defender scores failed SSH logins against their source address and bans
// an address whose score reaches the threshold within the window. IPv4
// addresses count one by one, IPv6 addresses by /64, the smallest network
// a customer is usually given. A banned address is refused when it
// connects, before any key check or database lookup.
//
// Its memory is bounded: at most MaxTracked addresses with at most
// maxEventsPerAddress events each, and at most MaxBans bans. Bans are
// written through to the store and reloaded from it every Reload. A
// Defender is safe for concurrent use; the nil *Defender refuses nothing.
type Defender struct {
	cfg DefenderConfig
	db  *store.DB // nil: bans are not kept
	log *slog.Logger
	now func() time.Time

	bansStarted *metrics.Counter
	refused     *metrics.Counter
	scored      *metrics.CounterVec

	mu      sync.Mutex
	tracked map[netip.Prefix]*list.Element // of *scoreCard
	lru     *list.List                     // most recently scored first
	bans    map[netip.Prefix]*banRecord
	// refusals since the last summary line, by address (bounded by bans).
	refusals map[netip.Prefix]int
}

// eventKind is what an event was, for the ban's reason.
type eventKind uint8

const (
	eventKey eventKind = iota
	eventHandshake
)

// eventNames label backupreport_ssh_ban_events_total.
var eventNames = [...]string{eventKey: "key", eventHandshake: "handshake"}

type scoreEvent struct {
	at    time.Time
	score int
	kind  eventKind
}

// scoreCard is one address's events within the window, oldest first.
type scoreCard struct {
	key    netip.Prefix
	events []scoreEvent
}

type banRecord struct {
	store.Ban
	// pending is set until the ban is in the store; savedAt is when it
	// got there (a reload that read the store before must keep it).
	pending bool
	savedAt time.Time
}

// NewDefender returns a defender whose bans live in db (nil: in memory
// only). Call Load before serving and Run in the background.
func NewDefender(db *store.DB, cfg DefenderConfig) *Defender {
	if cfg.Window <= 0 {
		cfg.Window = DefaultBanWindow
	}
	if cfg.BanTime <= 0 {
		cfg.BanTime = DefaultBanTime
	}
	if cfg.MaxBanTime < cfg.BanTime {
		cfg.MaxBanTime = max(DefaultBanMaxTime, cfg.BanTime)
	}
	if cfg.Memory <= 0 {
		cfg.Memory = DefaultBanMemory
	}
	if cfg.MaxTracked <= 0 {
		cfg.MaxTracked = DefaultBanMaxTracked
	}
	if cfg.MaxBans <= 0 {
		cfg.MaxBans = DefaultBanMaxBans
	}
	if cfg.Reload <= 0 {
		cfg.Reload = DefaultBanReload
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	d := &Defender{cfg: cfg, db: db, log: cfg.Logger, now: cfg.Now,
		tracked: map[netip.Prefix]*list.Element{}, lru: list.New(), bans: map[netip.Prefix]*banRecord{}, refusals: map[netip.Prefix]int{},
		bansStarted: metrics.NewCounter(metrics.CounterOpts{
			Name: "backupreport_ssh_bans_total", Help: "Bans started: an address reached --ban-threshold.",
		}),
		refused: metrics.NewCounter(metrics.CounterOpts{
			Name: "backupreport_ssh_ban_refused_total", Help: "SSH connections closed because their address is banned.",
		}),
		scored: metrics.NewCounterVec(metrics.CounterOpts{
			Name: "backupreport_ssh_ban_events_total", Help: "Failed logins scored against their address, by event (key, handshake).",
		}, []string{"event"}),
	}
	if cfg.Registry != nil {
		banned := metrics.NewGaugeFunc(metrics.GaugeOpts{
			Name: "backupreport_ssh_banned_addresses", Help: "Addresses (IPv4, or IPv6 /64) banned now.",
		}, func() float64 { return float64(d.activeCount()) })
		tracked := metrics.NewGaugeFunc(metrics.GaugeOpts{
			Name: "backupreport_ssh_ban_tracked_addresses", Help: "Addresses with a failed-login score now (at most --ban-max-tracked).",
		}, func() float64 { return float64(d.trackedCount()) })
		cfg.Registry.MustRegister(d.bansStarted, d.refused, d.scored, banned, tracked)
	}
	return d
}

// Enabled reports whether the defender scores and refuses anything.
func (d *Defender) Enabled() bool { return d != nil && d.cfg.Threshold > 0 }

// banKey is the unit an address is scored and banned by: the address for
// IPv4, its /64 for IPv6.
func banKey(ip netip.Addr) netip.Prefix {
	ip = ip.Unmap().WithZone("")
	if ip.Is4() {
		return netip.PrefixFrom(ip, 32)
	}
	p, _ := ip.Prefix(64)
	return p
}

// formatKey writes a ban key as the store and the pages show it.
func formatKey(p netip.Prefix) string {
	if p.Addr().Is4() {
		return p.Addr().String()
	}
	return p.String()
}

// BanAddress returns the address under which ip (an IPv4 or IPv6 address,
// or an IPv6 prefix of at least /64) is banned: "203.0.113.7" or
// "2001:db8:1:2::/64".
func BanAddress(s string) (string, error) {
	s = strings.TrimSpace(s)
	if p, err := netip.ParsePrefix(s); err == nil {
		a := p.Addr().Unmap()
		if (a.Is4() && p.Bits() != 32) || (a.Is6() && p.Bits() < 64) {
			return "", fmt.Errorf("%q: bans are by IPv4 address or IPv6 /64", s)
		}
		return formatKey(banKey(a)), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return "", fmt.Errorf("%q is not an IP address", s)
	}
	return formatKey(banKey(a)), nil
}

// addrOf returns the IP address of a connection's remote address.
func addrOf(a net.Addr) (netip.Addr, bool) {
	if t, ok := a.(*net.TCPAddr); ok {
		ip, ok := netip.AddrFromSlice(t.IP)
		return ip.Unmap(), ok
	}
	if a == nil {
		return netip.Addr{}, false
	}
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return netip.Addr{}, false
	}
	return ap.Addr().Unmap(), true
}

func (d *Defender) allowed(ip netip.Addr) bool {
	for _, p := range d.cfg.Allow {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// Refuse reports whether ip is banned now, and counts the refusal.
func (d *Defender) Refuse(ip netip.Addr) bool {
	if !d.Enabled() || d.allowed(ip) {
		return false
	}
	k := banKey(ip)
	now := d.now()
	d.mu.Lock()
	b, ok := d.bans[k]
	banned := ok && b.Active(now)
	if banned {
		if _, seen := d.refusals[k]; seen || len(d.refusals) < d.cfg.MaxBans {
			d.refusals[k]++
		}
	}
	d.mu.Unlock()
	if banned {
		d.refused.Inc()
	}
	return banned
}

// Fail scores an event of kind against ip and reports whether ip is
// banned now (by this event or before it). When this event starts the ban,
// the ban is logged and written to the store before Fail returns.
func (d *Defender) Fail(ip netip.Addr, score int, kind eventKind) bool {
	if !d.Enabled() || score <= 0 || d.allowed(ip) {
		return false
	}
	k := banKey(ip)
	now := d.now()
	d.mu.Lock()
	if b, ok := d.bans[k]; ok && b.Active(now) {
		d.mu.Unlock()
		return true
	}
	d.scored.WithLabelValues(eventNames[kind]).Inc()
	c := d.card(k)
	c.add(scoreEvent{at: now, score: score, kind: kind}, now.Add(-d.cfg.Window))
	d.cfg.Shared.Add(formatKey(k), score, now)
	total, keysN, hsN := c.total()
	elsewhere := d.cfg.Shared.Others(formatKey(k)).N
	if total+elsewhere < d.cfg.Threshold {
		d.mu.Unlock()
		return false
	}
	total += elsewhere
	d.forget(k)
	level := 1
	if prev, ok := d.bans[k]; ok && now.Before(prev.Until.Add(d.cfg.Memory)) {
		level = prev.Level + 1
	}
	dur := d.banTime(level)
	rec := &banRecord{Ban: store.Ban{Address: formatKey(k), Since: now, Until: now.Add(dur), Level: level, Score: total,
		Reason: reason(keysN, hsN, elsewhere, d.cfg.Window)}, pending: true}
	d.putBan(k, rec, now)
	b := rec.Ban
	d.mu.Unlock()

	d.bansStarted.Inc()
	d.log.Warn("ssh address banned", logkey.RemoteAddr, b.Address, logkey.Score, b.Score, logkey.Duration, dur.String(), logkey.Level, b.Level,
		logkey.Until, b.Until.UTC().Format(time.RFC3339), logkey.Reason, b.Reason)
	if err := d.cfg.Shared.Reset(context.Background(), b.Address); err != nil {
		d.log.Warn("ssh ban: forget the other nodes' score", logkey.RemoteAddr, b.Address, logkey.Err, err)
	}
	if d.db != nil {
		if err := d.db.SaveBan(context.Background(), b); err != nil {
			// It stays pending, so reloads keep it here all the same.
			d.log.Warn("save ssh ban", logkey.RemoteAddr, b.Address, logkey.Err, err)
			return true
		}
	}
	d.mu.Lock()
	if r, ok := d.bans[k]; ok && r == rec {
		r.pending, r.savedAt = false, d.now()
	}
	d.mu.Unlock()
	return true
}

// Forgive takes back score points of ip: those of a connection that went
// on to log in (a client offering several keys before the right one).
func (d *Defender) Forgive(ip netip.Addr, score int) {
	if !d.Enabled() || score <= 0 {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	k := banKey(ip)
	e, ok := d.tracked[k]
	if !ok {
		return
	}
	d.cfg.Shared.Add(formatKey(k), -score, d.now())
	c := e.Value.(*scoreCard)
	for i := len(c.events) - 1; i >= 0 && score > 0; i-- {
		take := min(score, c.events[i].score)
		c.events[i].score -= take
		score -= take
	}
	kept := c.events[:0]
	for _, ev := range c.events {
		if ev.score > 0 {
			kept = append(kept, ev)
		}
	}
	c.events = kept
	if len(c.events) == 0 {
		d.forget(c.key)
	}
}

// banTime is the length of a ban of the given level: BanTime doubled per
// repeat, at most MaxBanTime.
func (d *Defender) banTime(level int) time.Duration {
	t := d.cfg.BanTime
	for i := 1; i < level && t < d.cfg.MaxBanTime; i++ {
		t *= 2
	}
	return min(t, d.cfg.MaxBanTime)
}

// reason is a ban's reason: the events scored here, and the points the
// other nodes scored.
func reason(keys, handshakes, elsewhere int, window time.Duration) string {
	var parts []string
	if keys > 0 {
		parts = append(parts, plural(keys, "refused key"))
	}
	if handshakes > 0 {
		parts = append(parts, plural(handshakes, "failed handshake"))
	}
	if elsewhere > 0 {
		parts = append(parts, plural(elsewhere, "point")+" scored on other nodes")
	}
	return strings.Join(parts, " and ") + " within " + shortDuration(window)
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// shortDuration writes 10m0s as 10m and 24h0m0s as 24h.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// card returns k's score card, making room for it when needed. d.mu held.
func (d *Defender) card(k netip.Prefix) *scoreCard {
	if e, ok := d.tracked[k]; ok {
		d.lru.MoveToFront(e)
		return e.Value.(*scoreCard)
	}
	for d.lru.Len() >= d.cfg.MaxTracked {
		d.forget(d.lru.Back().Value.(*scoreCard).key)
	}
	c := &scoreCard{key: k}
	d.tracked[k] = d.lru.PushFront(c)
	return c
}

// forget drops k's score card. d.mu held.
func (d *Defender) forget(k netip.Prefix) {
	if e, ok := d.tracked[k]; ok {
		d.lru.Remove(e)
		delete(d.tracked, k)
	}
}

// add appends an event and drops those older than from.
func (c *scoreCard) add(ev scoreEvent, from time.Time) {
	i := 0
	for i < len(c.events) && c.events[i].at.Before(from) {
		i++
	}
	c.events = append(c.events[:0], c.events[i:]...)
	if len(c.events) >= maxEventsPerAddress {
		// Merge the two oldest, keeping the later time: the merged score
		// stays in the window a little longer, never shorter.
		c.events[1].score += c.events[0].score
		c.events = append(c.events[:0], c.events[1:]...)
	}
	c.events = append(c.events, ev)
}

func (c *scoreCard) total() (score, keys, handshakes int) {
	for _, ev := range c.events {
		score += ev.score
		if ev.kind == eventKey {
			keys++
		} else {
			handshakes++
		}
	}
	return score, keys, handshakes
}

// putBan holds a ban, dropping another when MaxBans are held: first the
// bans no longer remembered, then the one that ended or ends first.
// d.mu held.
func (d *Defender) putBan(k netip.Prefix, rec *banRecord, now time.Time) {
	if _, ok := d.bans[k]; !ok && len(d.bans) >= d.cfg.MaxBans {
		for key, b := range d.bans {
			if !now.Before(b.Until.Add(d.cfg.Memory)) {
				delete(d.bans, key)
			}
		}
		for len(d.bans) >= d.cfg.MaxBans {
			var first netip.Prefix
			var at time.Time
			for key, b := range d.bans {
				if at.IsZero() || b.Until.Before(at) {
					first, at = key, b.Until
				}
			}
			delete(d.bans, first)
		}
	}
	d.bans[k] = rec
}

// Bans returns the bans in force now, those ending last first.
func (d *Defender) Bans() []store.Ban {
	now := d.now()
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []store.Ban
	for _, b := range d.bans {
		if b.Active(now) {
			out = append(out, b.Ban)
		}
	}
	sortBans(out)
	return out
}

func sortBans(bs []store.Ban) {
	sort.Slice(bs, func(i, j int) bool {
		if !bs[i].Until.Equal(bs[j].Until) {
			return bs[i].Until.After(bs[j].Until)
		}
		return bs[i].Address < bs[j].Address
	})
}

func (d *Defender) activeCount() int {
	now := d.now()
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for _, b := range d.bans {
		if b.Active(now) {
			n++
		}
	}
	return n
}

func (d *Defender) trackedCount() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.lru.Len()
}

// Lift ends the ban of address (as BanAddress writes it) here and in the
// store at once, and clears the address's score. actor is recorded in the
// audit log.
func (d *Defender) Lift(ctx context.Context, actor, address string) error {
	key, err := BanAddress(address)
	if err != nil {
		return err
	}
	p, err := parseKey(key)
	if err != nil {
		return err
	}
	var storeErr error
	if d.db != nil {
		storeErr = d.db.LiftBan(ctx, actor, key)
	}
	d.mu.Lock()
	b, had := d.bans[p]
	had = had && b.Active(d.now())
	delete(d.bans, p)
	d.forget(p)
	d.mu.Unlock()
	// A ban held here but missing from the store (its write failed) is
	// lifted all the same.
	if storeErr != nil && !(had && errors.Is(storeErr, store.ErrNotFound)) {
		return storeErr
	}
	d.log.Info("ssh ban lifted", logkey.RemoteAddr, key, logkey.Actor, actor)
	return nil
}

// parseKey reads a ban key as formatKey wrote it.
func parseKey(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		return banKey(p.Addr()), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return banKey(a), nil
}

// Load replaces the bans held with those in the store: the active ones and
// the ended ones still remembered. Bans started here and not yet read back
// from the store are kept.
func (d *Defender) Load(ctx context.Context) error {
	if d.db == nil || !d.Enabled() {
		return nil
	}
	start := d.now()
	bs, err := d.db.Bans(ctx, start.Add(-d.cfg.Memory), d.cfg.MaxBans)
	if err != nil {
		return err
	}
	fresh := make(map[netip.Prefix]*banRecord, len(bs))
	for _, b := range bs {
		k, err := parseKey(b.Address)
		if err != nil {
			d.log.Warn("ssh ban in the store has a bad address", logkey.RemoteAddr, b.Address, logkey.Err, err)
			continue
		}
		fresh[k] = &banRecord{Ban: b}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for k, r := range d.bans {
		if r.pending || !r.savedAt.Before(start) {
			if f, ok := fresh[k]; !ok || f.Since.Before(r.Since) {
				fresh[k] = r
			}
		}
	}
	d.bans = fresh
	return nil
}

// Run reloads the bans every Reload, logs one summary line of the
// connections refused since the last one, and purges the bans no longer
// remembered, until ctx ends.
func (d *Defender) Run(ctx context.Context) {
	if !d.Enabled() {
		return
	}
	t := time.NewTicker(d.cfg.Reload)
	defer t.Stop()
	var lastPurge time.Time
	for {
		select {
		case <-ctx.Done():
			d.summarize()
			return
		case <-t.C:
		}
		if err := d.Load(ctx); err != nil && ctx.Err() == nil {
			d.log.Warn("reload ssh bans", logkey.Err, err)
		}
		d.summarize()
		if now := d.now(); d.db != nil && now.Sub(lastPurge) >= time.Hour {
			lastPurge = now
			if _, err := d.db.PurgeBans(ctx, now.Add(-d.cfg.Memory)); err != nil && ctx.Err() == nil {
				d.log.Warn("purge ssh bans", logkey.Err, err)
			}
		}
	}
}

// summarize logs the connections refused since its last call, if any: one
// line, not one per connection.
func (d *Defender) summarize() {
	d.mu.Lock()
	n, top, topN := 0, netip.Prefix{}, 0
	for k, c := range d.refusals {
		n += c
		if c > topN {
			top, topN = k, c
		}
	}
	addrs := len(d.refusals)
	clear(d.refusals)
	d.mu.Unlock()
	if n > 0 {
		d.log.Info("ssh connections refused while banned", logkey.Count, n, logkey.Addresses, addrs, logkey.Busiest, formatKey(top), logkey.BusiestCount, topN)
	}
}

// Per-connection defence: the Server's side of the defender.

// ctxDefense is the context key of a connection's *connDefense.
const ctxDefense ctxKey = "defense"

// connDefense is what the defender knows of one connection.
type connDefense struct {
	ip     netip.Addr
	conn   net.Conn
	sent   atomic.Bool  // the client sent at least one byte
	authed atomic.Bool  // it logged in
	scored atomic.Int64 // points it scored so far
}

// watchedConn notes whether the client sent anything.
type watchedConn struct {
	net.Conn
	st *connDefense
}

func (c *watchedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 && !c.st.sent.Load() {
		c.st.sent.Store(true)
	}
	return n, err
}

// defendConn is the ConnCallback: it closes a banned address's connection
// at once (no banner, no key check), and otherwise follows the connection
// to score its handshake if it ends before logging in.
func (s *Server) defendConn(ctx ssh.Context, conn net.Conn) net.Conn {
	d := s.cfg.Defender
	if !d.Enabled() {
		return conn
	}
	ip, ok := addrOf(conn.RemoteAddr())
	if !ok {
		return conn
	}
	if d.Refuse(ip) {
		return nil
	}
	st := &connDefense{ip: ip, conn: conn}
	ctx.SetValue(ctxDefense, st)
	// gliderlabs cancels the connection's context when it closes.
	context.AfterFunc(ctx, func() {
		if !st.authed.Load() && st.scored.Load() == 0 && st.sent.Load() && !s.isClosing() {
			d.Fail(ip, ScoreFailedHandshake, eventHandshake)
		}
	})
	return &watchedConn{Conn: conn, st: st}
}

func defenseOf(ctx ssh.Context) *connDefense {
	st, _ := ctx.Value(ctxDefense).(*connDefense)
	return st
}

// refuseBanned reports whether the connection's address was banned since
// it connected (by its own or a parallel connection's failures); it then
// closes the connection, before any key lookup.
func (s *Server) refuseBanned(ctx ssh.Context) bool {
	st := defenseOf(ctx)
	if st == nil || !s.cfg.Defender.Refuse(st.ip) {
		return false
	}
	st.conn.Close()
	return true
}

// scoreRefusedKey scores a refused key against the connection's address
// and closes the connection when that banned the address.
func (s *Server) scoreRefusedKey(ctx ssh.Context) {
	st := defenseOf(ctx)
	if st == nil {
		return
	}
	st.scored.Add(ScoreRefusedKey)
	if s.cfg.Defender.Fail(st.ip, ScoreRefusedKey, eventKey) {
		st.conn.Close()
	}
}

// loggedIn forgives the points the connection scored before its login.
func (s *Server) loggedIn(ctx ssh.Context) {
	st := defenseOf(ctx)
	if st == nil {
		return
	}
	st.authed.Store(true)
	s.cfg.Defender.Forgive(st.ip, int(st.scored.Load()))
}
