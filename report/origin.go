package report

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/backupreport/backupreport/store"
	"github.com/backupreport/backupreport/store/logkey"
)

// origin is where a request came from, as far as it can be trusted: the
// TCP peer, or what a trusted proxy (Config.TrustedProxies) says of its
// own client.
type origin struct {
	// Addr is the client's address, for the throttle and logs: the peer's,
	// or the rightmost address of X-Forwarded-For that is not a trusted
	// proxy, when the peer is one.
	Addr string
	// HTTPS tells whether the client's request came over TLS: directly,
	// or through a trusted proxy that says X-Forwarded-Proto: https.
	HTTPS bool
}

type originKey struct{}

// originOf returns the origin ServeHTTP found for r.
func (h *Handler) originOf(r *http.Request) origin {
	if o, ok := r.Context().Value(originKey{}).(origin); ok {
		return o
	}
	return h.findOrigin(r)
}

// findOrigin reads the origin of a request from its peer and, only when
// the peer is a trusted proxy, from its X-Forwarded-For and
// X-Forwarded-Proto headers.
func (h *Handler) findOrigin(r *http.Request) origin {
	peer, ok := peerAddr(r.RemoteAddr)
	o := origin{Addr: r.RemoteAddr, HTTPS: r.TLS != nil}
	if !ok {
		return o
	}
	o.Addr = peer.String()
	xff, xfp := r.Header.Values("X-Forwarded-For"), r.Header.Values("X-Forwarded-Proto")
	if len(xff) == 0 && len(xfp) == 0 {
		return o
	}
	if !trusted(peer, h.cfg.TrustedProxies) {
		h.wm.forwardedIgnored.Inc()
		if h.forwardedWarned.CompareAndSwap(false, true) {
			h.log.Warn("ignoring X-Forwarded-For and X-Forwarded-Proto from a peer that is not a trusted proxy (set --trusted-proxy if it is one); logged once",
				logkey.RemoteAddr, o.Addr)
		}
		return o
	}
	o.Addr = forwardedFor(peer, xff, h.cfg.TrustedProxies).String()
	if len(xfp) > 0 {
		// The nearest proxy's word: the last value of the last header.
		last := xfp[len(xfp)-1]
		if i := strings.LastIndexByte(last, ','); i >= 0 {
			last = last[i+1:]
		}
		o.HTTPS = o.HTTPS || strings.EqualFold(strings.TrimSpace(last), "https")
	}
	return o
}

// withOrigin stores the origin in the request, for the handlers, and its
// address for the audit log of the changes the request makes.
func withOrigin(r *http.Request, o origin) *http.Request {
	ctx := context.WithValue(r.Context(), originKey{}, o)
	return r.WithContext(store.WithClientAddr(ctx, o.Addr))
}

// peerAddr parses an http.Request's RemoteAddr ("IP:port").
func peerAddr(remote string) (netip.Addr, bool) {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.WithZone("").Unmap(), true
}

func trusted(a netip.Addr, proxies []netip.Prefix) bool {
	for _, p := range proxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// forwardedFor finds the client of a request whose peer is a trusted
// proxy: walking X-Forwarded-For from the right (the entry the nearest
// proxy added), it skips trusted proxies and returns the first address
// that is not one. Everything left of that address was written by the
// client and is never believed. An entry that is not an address (nginx
// writes "unknown" for a Unix socket) ends the walk at the last trusted
// hop; a chain of trusted proxies only gives its leftmost one.
func forwardedFor(peer netip.Addr, headers []string, proxies []netip.Prefix) netip.Addr {
	client := peer
	for i := len(headers) - 1; i >= 0; i-- {
		rest := headers[i]
		for rest != "" {
			entry := rest
			if j := strings.LastIndexByte(rest, ','); j >= 0 {
				entry, rest = rest[j+1:], rest[:j]
			} else {
				rest = ""
			}
			entry = strings.TrimSpace(entry)
			if entry == "" {
				continue
			}
			a, ok := parseHop(entry)
			if !ok {
				return client
			}
			client = a
			if !trusted(a, proxies) {
				return client
			}
		}
	}
	return client
}

// parseHop reads one X-Forwarded-For entry: an address, maybe with a
// port ("192.0.2.1:4711", "[2001:db8::1]:4711") or in brackets.
func parseHop(s string) (netip.Addr, bool) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().WithZone("").Unmap(), true
	}
	s = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.WithZone("").Unmap(), true
}

// ParseTrustedProxy reads one --trusted-proxy value: a CIDR range
// ("10.0.0.0/8", "2001:db8::/32") or a single address.
func ParseTrustedProxy(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		if p.Addr().Is4In6() {
			p = netip.PrefixFrom(p.Addr().Unmap(), max(p.Bits()-96, 0))
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	a = a.WithZone("").Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}
