package report

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/backupreport/backupreport/store"
)

// storagePage is /storage (admins): what the database takes on disk, what
// each customer's raw logs take against its cap, and the retention.
type storagePage struct {
	base
	Space         store.Space
	Customers     []logUse
	Total         store.LogUsage
	DefaultQuota  int64
	RetentionDays int
}

// logUse is a customer's raw logs against its cap.
type logUse struct {
	store.CustomerStorage
	Quota   int64  // the cap that applies; 0: none
	Own     bool   // the customer's own cap, not the default
	Percent string // use of the cap, "-" without one
	Over    bool
}

func (h *Handler) logUse(cs store.CustomerStorage) logUse {
	u := logUse{CustomerStorage: cs, Quota: store.EffectiveLogQuota(cs.QuotaOverride, h.cfg.LogQuota), Own: cs.QuotaOverride != nil, Percent: "-"}
	if u.Quota > 0 {
		u.Percent = fmt.Sprintf("%.0f%%", 100*float64(cs.StoredBytes)/float64(u.Quota))
		u.Over = cs.StoredBytes > u.Quota
	}
	return u
}

func (h *Handler) storagePage(w http.ResponseWriter, r *http.Request, s *session) error {
	ctx := r.Context()
	sp, err := h.db.Space(ctx)
	if err != nil {
		return err
	}
	cs, err := h.db.StorageByCustomer(ctx)
	if err != nil {
		return err
	}
	p := &storagePage{base: h.base(r, s, "Storage"), Space: sp, DefaultQuota: h.cfg.LogQuota, RetentionDays: h.cfg.RawLogRetentionDays}
	for _, c := range cs {
		p.Customers = append(p.Customers, h.logUse(c))
		p.Total.Logs += c.Logs
		p.Total.StoredBytes += c.StoredBytes
		p.Total.OriginalBytes += c.OriginalBytes
		if c.Oldest != nil && (p.Total.Oldest == nil || c.Oldest.Before(*p.Total.Oldest)) {
			p.Total.Oldest = c.Oldest
		}
	}
	return h.render(w, r, http.StatusOK, "storage", p)
}

// customerLogUse is the raw log part of a customer's page.
type customerLogUse struct {
	logUse
	RetentionDays int
	CanSet        bool  // admins set a customer's cap
	OwnMiB        int64 // the customer's own cap in MiB, for the form
}

func (h *Handler) customerLogUse(ctx context.Context, c store.Customer, s *session) (*customerLogUse, error) {
	u, err := h.db.LogUsage(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	own, err := h.db.CustomerLogQuota(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	cu := &customerLogUse{logUse: h.logUse(store.CustomerStorage{CustomerID: c.ID, Customer: c.Slug, LogUsage: u, QuotaOverride: own}),
		RetentionDays: h.cfg.RawLogRetentionDays, CanSet: s.can(store.RoleAdmin)}
	if own != nil {
		cu.OwnMiB = *own >> 20
	}
	return cu, nil
}

// maxQuotaMiB bounds the form's number (1 PiB), far above any disk.
const maxQuotaMiB = 1 << 30

// setLogQuota sets a customer's own cap (in MiB; 0: none) or, with an
// empty field, returns it to serve's default.
func (h *Handler) setLogQuota(w http.ResponseWriter, r *http.Request, s *session) error {
	ctx := r.Context()
	c, err := h.db.CustomerBySlug(ctx, r.PathValue("customer"))
	if err != nil {
		return err
	}
	var quota *int64
	if v := strings.TrimSpace(r.PostFormValue("quota_mib")); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 || n > maxQuotaMiB {
			return errorf(http.StatusBadRequest, "The cap %q is not a whole number of MiB from 0 to %d.", v, maxQuotaMiB)
		}
		n <<= 20
		quota = &n
	}
	if err := h.db.SetCustomerLogQuota(ctx, actor(s), c.ID, quota); err != nil {
		return badRequest(err)
	}
	http.Redirect(w, r, "/customers/"+url.PathEscape(c.Slug), http.StatusSeeOther)
	return nil
}
