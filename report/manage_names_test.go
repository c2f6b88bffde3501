package report

import (
	"context"
	"html"
	"net/url"
	"strings"
	"testing"
)

// TestFormsFollowTheNamingRule checks that the add and rename forms refuse
// look-alike names with the rule's message, and change nothing.
func TestFormsFollowTheNamingRule(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.login("tom")
	before, _ := e.db.Servers(ctx)
	for _, f := range []struct {
		why, path string
		form      url.Values
		want      string
	}{
		{"a customer slug with a fullwidth solidus", "/customers", url.Values{"slug": {"globex\uFF0Feu"}}, "U+FF0F FULLWIDTH SOLIDUS"},
		{"a customer slug mixing Greek and Latin letters", "/customers", url.Values{"slug": {"gl\u03BFbex"}}, "mixes Latin and Greek letters"},
		{"a new server with a division slash", "/servers", url.Values{"customer": {"sunrise-school"}, "name": {"fs\u221502"}}, "U+2215 DIVISION SLASH"},
		{"a new server with a right-to-left override", "/servers", url.Values{"customer": {"sunrise-school"}, "name": {"fs\u202E02"}}, "invisible character U+202E RIGHT-TO-LEFT OVERRIDE"},
		{"a rename to a name with a backslash look-alike", "/servers/sunrise-school/NAS/settings", url.Values{"name": {"NAS\u29F5old"}, "day1": {"1"}}, "U+29F5 REVERSE SOLIDUS OPERATOR"},
	} {
		t.Run(f.why, func(t *testing.T) {
			f.form.Set("csrf", c.csrf)
			resp, body := c.post(f.path, f.form)
			body = html.UnescapeString(body)
			if resp.StatusCode != 400 || !strings.Contains(body, f.want) {
				i := strings.Index(body, "<main")
				t.Errorf("POST %s: %d, want 400 saying %q\n%.600s", f.path, resp.StatusCode, f.want, body[max(i, 0):])
			}
		})
	}
	after, _ := e.db.Servers(ctx)
	if len(after) != len(before) {
		t.Errorf("%d servers before, %d after refused forms", len(before), len(after))
	}
	if _, err := e.db.CustomerBySlug(ctx, "globex\uFF0Feu"); err == nil {
		t.Error("the refused customer was added")
	}
	if _, err := e.db.ServerByName(ctx, "sunrise-school", "NAS"); err != nil {
		t.Errorf("the refused rename renamed NAS: %v", err)
	}
}
