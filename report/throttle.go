package report

import (
	"container/list"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/backupreport/backupreport/store"
	"github.com/backupreport/backupreport/store/logkey"
)

// LoginLimits bound password guessing, at /login and on the password
// change form (/account/password), which share one throttle.
//
// A wrong password counts against the pair (username, client address) and
// against the address alone. Once a pair has PairFailures failures, each
// further attempt of that pair must wait: Delay after the last failure,
// then twice that, and so on up to MaxDelay. An address that has sent
// AddressFailures wrong passwords, whatever the usernames, waits the same
// way. A refused attempt is answered 429 before the password is checked,
// so waiting is not optional. A successful login forgets the pair's
// failures (not the address's). A pair or an address with no failure for
// 15 minutes, or for twice MaxDelay when that is longer, starts afresh.
//
// There is no lock per username: failures from one address never make
// another address wait, so a stranger cannot lock a member of staff out.
// The price is that guesses from many addresses are bounded only per
// address; passwords are long (10 characters at least) and bcrypt-hashed.
//
// Each node counts in memory, at most MaxTracked pairs and MaxTracked
// addresses (beyond that the entry with the oldest failure is dropped).
// With Config.SharedLogins the counts are shared through the database:
// a node adds the failures the other nodes (and its own earlier runs)
// counted, as of their last sync, so guesses spread over several nodes
// wait as if they were sent to one.
type LoginLimits struct {
	// PairFailures is how many wrong passwords a (username, address) pair
	// may send before its attempts wait.
	PairFailures int
	// AddressFailures is how many wrong passwords an address may send, for
	// any usernames, before its attempts wait; 0 sets no such limit.
	AddressFailures int
	// Delay is the first wait; each further failure doubles it. 0 turns
	// the throttle off.
	Delay time.Duration
	// MaxDelay caps the wait.
	MaxDelay time.Duration
	// MaxTracked bounds the pairs, and separately the addresses, kept.
	MaxTracked int
}

// DefaultLoginLimits are the limits used when Config.LoginLimits is the
// zero value.
var DefaultLoginLimits = LoginLimits{PairFailures: 3, AddressFailures: 20, Delay: time.Second, MaxDelay: 5 * time.Minute, MaxTracked: 100000}

// ForgetAfter is how long without a failure makes an entry start afresh;
// it stays longer than the longest wait, or waiting out the forgetting
// would be quicker than waiting out the delay.
func (l LoginLimits) ForgetAfter() time.Duration { return max(15*time.Minute, 2*l.MaxDelay) }

// wait is how long after the last failure the next attempt may come, for
// an entry with fails failures of which free were free.
func (l LoginLimits) wait(fails, free int) time.Duration {
	if fails < free {
		return 0
	}
	d := l.Delay
	for i := free; i < fails && d < l.MaxDelay; i++ {
		d *= 2
	}
	return min(d, l.MaxDelay)
}

// Throttle scopes, as metric labels and log values.
const (
	scopePair    = "pair"
	scopeAddress = "address"
)

// maxThrottledName is how much of a username the throttle keeps: no
// username is longer (store refuses more than 64 bytes), so longer ones
// are all wrong guesses and may share one entry.
const maxThrottledName = 64

// throttle is the state behind LoginLimits. Its methods are safe for
// concurrent use.
type throttle struct {
	bg    context.Context // for the shared counts' resets
	lim   LoginLimits
	now   func() time.Time
	log   *slog.Logger
	m     *webMetrics
	mu    sync.Mutex
	pairs *backoffTable
	addrs *backoffTable
}

func newThrottle(bg context.Context, lim LoginLimits, shared SharedLogins, now func() time.Time, log *slog.Logger, m *webMetrics) *throttle {
	t := &throttle{bg: bg, lim: lim, now: now, log: log, m: m,
		pairs: newBackoffTable(scopePair, lim.PairFailures, lim.MaxTracked),
		addrs: newBackoffTable(scopeAddress, lim.AddressFailures, lim.MaxTracked)}
	t.pairs.shared, t.addrs.shared = shared.Pairs, shared.Addresses
	return t
}

// SharedLogins are the login throttle's counts shared with the other
// nodes (store.ScopeLoginPair and store.ScopeLoginAddress); nil ones
// leave this node counting alone. The caller syncs them.
type SharedLogins struct {
	Pairs, Addresses *store.SharedCounts
}

func (t *throttle) on() bool { return t.lim.Delay > 0 }

func (t *throttle) addrOn() bool { return t.on() && t.lim.AddressFailures > 0 }

func pairKey(username, addr string) string {
	return addr + " " + truncate(strings.ToLower(username), maxThrottledName)
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// take asks for one password check of username from addr. When the pair
// or the address must wait, it returns how long and counts nothing; else
// it counts the attempt as a failure at once, so that parallel guesses
// cannot all slip past, and returns 0. Call succeeded when the password
// was right, or giveBack when it could not be checked.
func (t *throttle) take(form, username, addr string) time.Duration {
	if !t.on() {
		return 0
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	forget := t.lim.ForgetAfter()
	t.pairs.sweep(now, forget)
	t.addrs.sweep(now, forget)
	t.gauges()
	pk := pairKey(username, addr)
	var wait time.Duration
	for _, c := range []struct {
		tab *backoffTable
		key string
		on  bool
	}{{t.pairs, pk, true}, {t.addrs, addr, t.addrOn()}} {
		if !c.on {
			continue
		}
		e := c.tab.get(c.key)
		fails, last := 0, time.Time{}
		if e != nil {
			fails, last = e.fails, e.last
		}
		if o := c.tab.shared.Others(c.key); o.N > 0 {
			fails += o.N
			if o.Last.After(last) {
				last = o.Last
			}
		}
		if fails == 0 {
			continue
		}
		d := last.Add(t.lim.wait(fails, c.tab.free)).Sub(now)
		if d <= 0 {
			continue
		}
		if e == nil { // only the other nodes' failures: an entry to log it once
			e = c.tab.hold(c.key, last)
		}
		wait = max(wait, d)
		t.m.throttled.WithLabelValues(c.tab.scope).Inc()
		if !e.started {
			e.started = true
			t.m.throttleStarts.WithLabelValues(c.tab.scope).Inc()
			t.log.Warn("login throttled", logkey.Scope, c.tab.scope, logkey.Form, form, logkey.Username, truncate(username, maxThrottledName), logkey.RemoteAddr, addr,
				logkey.Failures, fails, logkey.Wait, time.Duration(retrySeconds(d))*time.Second)
		}
	}
	if wait > 0 {
		return wait
	}
	t.fail(t.pairs, pk, now)
	if t.addrOn() {
		t.fail(t.addrs, addr, now)
	}
	return 0
}

func (t *throttle) fail(tab *backoffTable, key string, now time.Time) {
	tab.shared.Add(key, 1, now)
	if evicted := tab.fail(key, now); evicted {
		t.m.throttleEvicted.WithLabelValues(tab.scope).Inc()
		if !tab.full {
			tab.full = true
			t.log.Warn("login throttle full; forgetting the oldest entries", logkey.Scope, tab.scope, logkey.Max, tab.max)
		}
	}
	t.gauges()
}

// succeeded forgets the pair's failures and gives the address back the
// attempt take counted.
func (t *throttle) succeeded(username, addr string) {
	if !t.on() {
		return
	}
	pk := pairKey(username, addr)
	t.mu.Lock()
	t.pairs.remove(pk)
	t.addrs.uncount(addr, t.now())
	t.gauges()
	t.mu.Unlock()
	if err := t.pairs.shared.Reset(t.bg, pk); err != nil {
		t.log.Warn("login throttle: forget the other nodes' failures", logkey.Username, truncate(username, maxThrottledName), logkey.RemoteAddr, addr, logkey.Err, err)
	}
}

func (t *throttle) gauges() {
	t.m.throttleTracked.WithLabelValues(scopePair).Set(float64(t.pairs.order.Len()))
	t.m.throttleTracked.WithLabelValues(scopeAddress).Set(float64(t.addrs.order.Len()))
}

// giveBack takes back the attempt take counted, for a password that was
// never checked (the database failed).
func (t *throttle) giveBack(username, addr string) {
	if !t.on() {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	t.pairs.uncount(pairKey(username, addr), now)
	t.addrs.uncount(addr, now)
	t.gauges()
}

// retryMessage is what a throttled form shows.
func retryMessage(wait time.Duration) string {
	return fmt.Sprintf("Too many attempts, try again in %d s.", retrySeconds(wait))
}

// retrySeconds rounds a wait up to whole seconds, for Retry-After.
func retrySeconds(wait time.Duration) int {
	return int((wait + time.Second - 1) / time.Second)
}

// backoffTable holds the failures of one scope, in the order of their
// last failure (most recent first), with at most max entries.
type backoffTable struct {
	scope string
	free  int // failures before waits begin
	max   int
	items map[string]*list.Element
	order *list.List // of *backoff
	full  bool       // the eviction was logged; cleared when there is room again
	// shared is the scope's counts on the other nodes; nil: none.
	shared *store.SharedCounts
}

// backoff is the failures of one pair or address.
type backoff struct {
	key     string
	fails   int
	last    time.Time
	started bool // its first refusal was logged
}

func newBackoffTable(scope string, free, maxEntries int) *backoffTable {
	return &backoffTable{scope: scope, free: free, max: max(maxEntries, 1), items: map[string]*list.Element{}, order: list.New()}
}

func (b *backoffTable) get(key string) *backoff {
	if el, ok := b.items[key]; ok {
		return el.Value.(*backoff)
	}
	return nil
}

// sweep forgets the entries whose last failure is older than forget; they
// are at the back.
func (b *backoffTable) sweep(now time.Time, forget time.Duration) {
	for el := b.order.Back(); el != nil; el = b.order.Back() {
		e := el.Value.(*backoff)
		if now.Sub(e.last) < forget {
			break
		}
		b.order.Remove(el)
		delete(b.items, e.key)
	}
	if b.order.Len() < b.max {
		b.full = false
	}
}

// fail counts a failure of key, making room by dropping the entry with
// the oldest failure; it reports whether it dropped one.
func (b *backoffTable) fail(key string, now time.Time) (evicted bool) {
	if el, ok := b.items[key]; ok {
		e := el.Value.(*backoff)
		e.fails++
		e.last = now
		b.order.MoveToFront(el)
		return false
	}
	if b.order.Len() >= b.max {
		el := b.order.Back()
		b.order.Remove(el)
		delete(b.items, el.Value.(*backoff).key)
		evicted = true
	}
	b.items[key] = b.order.PushFront(&backoff{key: key, fails: 1, last: now})
	return evicted
}

// hold makes an entry with no failure of its own, for a key only the
// other nodes counted; it goes like any other once last is old.
func (b *backoffTable) hold(key string, last time.Time) *backoff {
	if b.order.Len() >= b.max {
		el := b.order.Back()
		b.order.Remove(el)
		delete(b.items, el.Value.(*backoff).key)
	}
	e := &backoff{key: key, last: last}
	b.items[key] = b.order.PushFront(e)
	return e
}

func (b *backoffTable) remove(key string) {
	if el, ok := b.items[key]; ok {
		b.order.Remove(el)
		delete(b.items, key)
	}
}

// uncount takes one failure back, forgetting an entry left with none;
// the time of the last failure stays.
func (b *backoffTable) uncount(key string, now time.Time) {
	b.shared.Add(key, -1, now)
	e := b.get(key)
	if e == nil {
		return
	}
	if e.fails--; e.fails <= 0 {
		b.remove(key)
	}
}
