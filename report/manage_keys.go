package report

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/backupreport/backupreport/keys"
	"github.com/backupreport/backupreport/store"
)

// keyView is a key as the keys pages show it, with why it counts as legacy
// crypto, if it does.
type keyView struct {
	store.Key
	Legacy []string
}

type keysPage struct {
	base
	Keys      []keyView
	Scopes    []string
	CanManage bool
	Legacy    bool // the legacy-crypto view
	Customers []string
	Error     string
}

// legacyReasons says why a key or its last login uses old cryptography:
// DSA keys, short RSA keys, SHA-1 signatures, and weak key exchange,
// ciphers or MACs. It is the worklist for moving customers to modern keys.
func legacyReasons(k store.Key) []string {
	var out []string
	if k.Type == "ssh-dss" {
		out = append(out, "DSA key")
	}
	if k.Type == "ssh-rsa" && k.Bits > 0 && k.Bits < 2048 {
		out = append(out, fmt.Sprintf("RSA key of %d bits", k.Bits))
	}
	l := k.Login
	switch l.SigAlgo {
	case "ssh-rsa":
		out = append(out, "SHA-1 signature (ssh-rsa)")
	case "ssh-dss":
		if k.Type != "ssh-dss" {
			out = append(out, "DSA signature")
		}
	}
	switch {
	case l.Kex == "diffie-hellman-group1-sha1", l.Kex == "diffie-hellman-group14-sha1", l.Kex == "diffie-hellman-group-exchange-sha1":
		out = append(out, "weak key exchange "+l.Kex)
	}
	if strings.HasSuffix(l.Cipher, "-cbc") || strings.HasPrefix(l.Cipher, "arcfour") || strings.HasPrefix(l.Cipher, "3des") {
		out = append(out, "weak cipher "+l.Cipher)
	}
	if strings.HasPrefix(l.MAC, "hmac-sha1") || strings.HasPrefix(l.MAC, "hmac-md5") {
		out = append(out, "weak MAC "+l.MAC)
	}
	return out
}

func (h *Handler) keysPageData(r *http.Request, s *session, legacy bool) (*keysPage, error) {
	ctx := r.Context()
	ks, err := h.db.Keys(ctx)
	if err != nil {
		return nil, err
	}
	title := "Keys"
	if legacy {
		title = "Legacy crypto"
	}
	p := &keysPage{base: h.base(r, s, title), CanManage: s.can(store.RoleTech), Legacy: legacy}
	custs := map[string]bool{}
	for _, k := range ks {
		v := keyView{Key: k, Legacy: legacyReasons(k)}
		if legacy && (len(v.Legacy) == 0 || k.RevokedAt != nil) {
			continue
		}
		custs[k.Customer] = true
		p.Keys = append(p.Keys, v)
	}
	p.Customers = sortedKeys(custs)
	if !legacy {
		cs, err := h.db.Customers(ctx)
		if err != nil {
			return nil, err
		}
		ss, err := h.db.Servers(ctx)
		if err != nil {
			return nil, err
		}
		for _, c := range cs {
			p.Scopes = append(p.Scopes, c.Slug)
			for _, sv := range ss {
				if sv.CustomerID == c.ID && !sv.Retired {
					p.Scopes = append(p.Scopes, c.Slug+"/"+sv.Name)
				}
			}
		}
	}
	return p, nil
}

func (h *Handler) keysPage(w http.ResponseWriter, r *http.Request, s *session) error {
	p, err := h.keysPageData(r, s, false)
	if err != nil {
		return err
	}
	return h.render(w, r, http.StatusOK, "keys", p)
}

func (h *Handler) legacyPage(w http.ResponseWriter, r *http.Request, s *session) error {
	p, err := h.keysPageData(r, s, true)
	if err != nil {
		return err
	}
	return h.render(w, r, http.StatusOK, "keys", p)
}

func (h *Handler) addKey(w http.ResponseWriter, r *http.Request, s *session) error {
	cust, srv, _ := strings.Cut(r.PostFormValue("scope"), "/")
	_, info, err := keys.ParsePublicKey([]byte(r.PostFormValue("key")))
	if err == nil {
		_, err = h.db.AddKey(r.Context(), actor(s), store.Key{Customer: cust, Server: srv, Fingerprint: info.Fingerprint, Type: info.Type,
			Bits: info.Bits, PublicKey: info.Authorized, Comment: info.Comment})
		if errors.Is(err, store.ErrConflict) {
			err = fmt.Errorf("the key %s is registered already", info.Fingerprint)
		}
	}
	if err != nil {
		p, perr := h.keysPageData(r, s, false)
		if perr != nil {
			return perr
		}
		p.Error = err.Error()
		return h.render(w, r, http.StatusBadRequest, "keys", p)
	}
	return back(w, r, "/keys")
}

func (h *Handler) revokeKey(w http.ResponseWriter, r *http.Request, s *session) error {
	if err := h.db.RevokeKey(r.Context(), actor(s), r.PostFormValue("fingerprint")); err != nil {
		return err
	}
	return back(w, r, "/keys")
}
