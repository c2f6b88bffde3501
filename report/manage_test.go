package report

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"html/template"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/backupreport/backupreport/store"
)

func TestCSRMayLookButNotManage(t *testing.T) {
	e := newEnv(t)
	csr := e.login("carol")
	for _, p := range []string{"/customers", "/customers/acme", "/servers", "/keys", "/keys/legacy", "/exceptions", "/codes", "/sandbox", "/account"} {
		if resp, body := csr.get(p); resp.StatusCode != http.StatusOK {
			t.Errorf("a csr GET %s: %d, want 200\n%.300s", p, resp.StatusCode, body)
		} else if strings.Contains(body, `action="/keys/revoke"`) || strings.Contains(body, `id="add-customer"`) {
			t.Errorf("a csr sees a management form on %s", p)
		}
	}
	for _, tc := range []struct{ method, path string }{
		{"GET", "/audit"}, {"GET", "/exceptions/new"},
		{"POST", "/customers"}, {"POST", "/customers/acme"}, {"POST", "/servers"}, {"POST", "/servers/acme/EXCH01/settings"},
		{"POST", "/keys"}, {"POST", "/keys/revoke"}, {"POST", "/exceptions"}, {"POST", "/exceptions/1"}, {"POST", "/exceptions/1/remove"},
		{"POST", "/users"}, {"POST", "/users/1"}, {"POST", "/users/1/password"}, {"POST", "/codes/23"},
	} {
		t.Run("a csr may not "+tc.method+" "+tc.path, func(t *testing.T) {
			var resp *http.Response
			if tc.method == "GET" {
				resp, _ = csr.get(tc.path)
			} else {
				resp, _ = csr.post(tc.path, url.Values{"csrf": {csr.csrf}, "slug": {"evil"}, "pattern": {"*"}, "scope": {"global"}, "role": {"admin"}, "fingerprint": {"x"}})
			}
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s %s as csr: %d, want 403", tc.method, tc.path, resp.StatusCode)
			}
		})
	}
	if _, err := e.db.CustomerBySlug(context.Background(), "evil"); err == nil {
		t.Error("a csr added a customer")
	}
	tech := e.login("tom")
	for _, p := range []string{"/users", "/audit"} {
		if resp, _ := tech.get(p); resp.StatusCode != http.StatusForbidden {
			t.Errorf("a tech GET %s: %d, want 403", p, resp.StatusCode)
		}
	}
}

func TestTechManagesCustomersServersAndKeys(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.login("tom")
	post := func(path string, form url.Values, want int) string {
		t.Helper()
		form.Set("csrf", c.csrf)
		resp, body := c.post(path, form)
		if resp.StatusCode != want {
			t.Fatalf("POST %s %v: %d, want %d\n%.500s", path, form, resp.StatusCode, want, body)
		}
		return body
	}
	post("/customers", url.Values{"slug": {"globex"}, "name": {"Globex"}}, 303)
	post("/customers/globex", url.Values{"name": {"Globex Corp"}, "csr": {"carol"}, "tsr": {"tom"}, "note": {"call before 10"}}, 303)
	cu, _ := e.db.CustomerBySlug(ctx, "globex")
	if cu.Name != "Globex Corp" || cu.CSR != "carol" || cu.TSR != "tom" || cu.Note != "call before 10" {
		t.Errorf("customer after edit: %+v", cu)
	}
	post("/customers/globex", url.Values{"csr": {"nobody-here"}}, 400)
	post("/servers", url.Values{"customer": {"globex"}, "name": {"fs01"}}, 303)
	post("/servers/globex/fs01/settings", url.Values{"name": {"FS02"}, "day1": {"1"}, "day3": {"1"}, "day5": {"1"}}, 303)
	sv, err := e.db.ServerByName(ctx, "globex", "FS02")
	if err != nil || store.WeekdayNames(sv.ExpectDays) != "mon wed fri" {
		t.Errorf("server after rename and days: %+v %v", sv, err)
	}
	post("/servers/globex/FS02/settings", url.Values{"action": {"retire"}}, 303)
	if sv, _ := e.db.ServerByName(ctx, "globex", "FS02"); !sv.Retired {
		t.Error("retire did not retire")
	}
	post("/servers/globex/FS02/settings", url.Values{"action": {"reactivate"}}, 303)
	post("/customers/globex", url.Values{"action": {"deactivate"}}, 303)
	if cu, _ := e.db.CustomerBySlug(ctx, "globex"); cu.Active {
		t.Error("deactivate did not")
	}
	t.Run("a new server registered by an upload is approved", func(t *testing.T) {
		srv, _ := e.db.ServerByName(ctx, "sunrise-school", "NAS")
		if !srv.Pending {
			t.Skip("the demo NAS is not new")
		}
		if _, body := c.get("/servers"); !strings.Contains(body, "wait for approval") {
			t.Error("the servers page does not say a new server waits")
		}
		post("/servers/sunrise-school/NAS/settings", url.Values{"action": {"approve"}}, 303)
		if srv, _ := e.db.ServerByName(ctx, "sunrise-school", "NAS"); srv.Pending {
			t.Error("still new after approval")
		}
	})

	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	spk, _ := gossh.NewPublicKey(pub)
	line := strings.TrimSpace(string(gossh.MarshalAuthorizedKey(spk))) + " globex@fs"
	post("/keys", url.Values{"scope": {"globex/FS02"}, "key": {line}}, 303)
	fp := gossh.FingerprintSHA256(spk)
	k, err := e.db.KeyByFingerprint(ctx, fp)
	if err != nil || k.Server != "FS02" || k.AddedBy != "web:tom" {
		t.Fatalf("key after add: %+v %v", k, err)
	}
	if body := post("/keys", url.Values{"scope": {"globex"}, "key": {line}}, 400); !strings.Contains(body, "registered already") {
		t.Error("a duplicate key is not explained")
	}
	if body := post("/keys", url.Values{"scope": {"globex"}, "key": {"-----BEGIN OPENSSH PRIVATE KEY-----\nxx\n-----END OPENSSH PRIVATE KEY-----"}}, 400); !strings.Contains(body, "private key") {
		t.Error("a pasted private key is not refused with a reason")
	}
	_, body := c.get("/keys")
	if !strings.Contains(body, inPage(fp)) || !strings.Contains(body, "ssh-ed25519") {
		t.Error("the keys page does not list the key with its fingerprint and type")
	}
	if _, body := c.get("/keys/legacy"); strings.Contains(body, inPage(fp)) {
		t.Error("a modern key is on the legacy list")
	}
	e.db.RecordLogin(ctx, fp, store.Login{ClientVersion: "SSH-2.0-OpenSSH_5.1", SigAlgo: "ssh-rsa", Kex: "diffie-hellman-group1-sha1", Cipher: "aes128-cbc", MAC: "hmac-sha1"})
	_, body = c.get("/keys/legacy")
	for _, want := range []string{inPage(fp), "SHA-1 signature", "weak key exchange diffie-hellman-group1-sha1", "weak cipher aes128-cbc", "weak MAC hmac-sha1", "globex"} {
		if !strings.Contains(body, want) {
			t.Errorf("the legacy view lacks %q", want)
		}
	}
	post("/keys/revoke", url.Values{"fingerprint": {fp}}, 303)
	if k, _ := e.db.KeyByFingerprint(ctx, fp); k.RevokedAt == nil {
		t.Error("the key is not revoked")
	}
}

func TestExceptionFromAResultReevaluatesTheNight(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	log, err := os.ReadFile("../testdata/rsync/real-ssh-unreadable/stats.out")
	if err != nil {
		t.Fatal(err)
	}
	id := e.upload("globex", "fs01", string(log), testNow.Add(-3*time.Hour))
	c := e.login("tom")
	_, body := c.get("/results/" + itoa(id))
	if !strings.Contains(body, "FAILED") || !strings.Contains(body, `/exceptions/new?scope=globex%2ffs01`) {
		t.Fatalf("the result page has no failure or no edit-pattern link:\n%.2000s", body)
	}
	if resp, body := c.get("/exceptions/new?scope=globex/fs01&path=/tmp/brgen/ssh-unreadable/src/Mail/archive.pst&back=/results/" + itoa(id)); resp.StatusCode != 200 || !strings.Contains(body, "*.pst") {
		t.Errorf("the add page suggests no pattern: %d", resp.StatusCode)
	}
	resp, _ := c.post("/exceptions", url.Values{"csrf": {c.csrf}, "scope": {"globex/fs01"}, "pattern": {"*/Mail/*.pst"}, "note": {"VSS"}, "back": {"/results/" + itoa(id)}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/results/"+itoa(id) {
		t.Fatalf("add exception: %d to %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	r, _, _ := e.db.Result(ctx, id)
	if r.Status != "ok" {
		t.Fatalf("after the exception the result is %s, want ok", r.Status)
	}
	_, body = c.get("/results/" + itoa(id))
	if !strings.Contains(body, "Verdict changed") || !strings.Contains(body, "added by tom") || !strings.Contains(body, "OK with exceptions") {
		t.Errorf("the result page does not show both verdicts and why:\n%.3000s", body)
	}
	if _, body := c.get("/servers/globex/fs01"); !strings.Contains(body, "was <span class=\"st failed\">FAILED</span>") {
		t.Error("the server's history does not show the earlier verdict")
	}
	ex, _ := e.db.Exceptions(ctx)
	last := ex[len(ex)-1]
	c.post("/exceptions/"+itoa(last.ID), url.Values{"csrf": {c.csrf}, "pattern": {"*/nothing"}, "note": {"x"}})
	if r, _, _ := e.db.Result(ctx, id); r.Status != "failed" {
		t.Errorf("after editing the pattern away the result is %s", r.Status)
	}
	c.post("/exceptions/"+itoa(last.ID)+"/remove", url.Values{"csrf": {c.csrf}})
	if _, err := e.db.ExceptionByID(ctx, last.ID); err == nil {
		t.Error("the exception was not removed")
	}
	if _, body := c.get("/exceptions"); !strings.Contains(body, "Stale") {
		t.Error("no stale section")
	}
	admin := e.login("alice")
	_, body = admin.get("/audit?q=exception")
	for _, want := range []string{"exception.add", "exception.update", "exception.remove", "web:tom"} {
		if !strings.Contains(body, want) {
			t.Errorf("the audit page lacks %q", want)
		}
	}
}

func TestSandboxJudgesWithoutStoring(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	log, _ := os.ReadFile("../testdata/rsync/hand-cygwin-ssh-code23/stats.out")
	srv, _ := e.db.ServerByName(ctx, "northwind", "FILES") // the demo excepts *.pst for northwind
	before, _ := e.db.CountResults(ctx, srv.ID)
	c := e.login("carol")
	resp, body := c.post("/sandbox", url.Values{"csrf": {c.csrf}, "server": {itoa(srv.ID)}, "log": {string(log)}})
	if resp.StatusCode != 200 || !strings.Contains(body, "FAILED") || !strings.Contains(body, "yes, by <code>*.pst</code>") {
		t.Errorf("sandbox: %d\n%.3000s", resp.StatusCode, body)
	}
	if after, _ := e.db.CountResults(ctx, srv.ID); after != before {
		t.Errorf("the sandbox stored a result: %d -> %d", before, after)
	}
}

func TestStaffAndOwnPassword(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	admin := e.login("alice")
	carol, _ := e.db.UserByName(ctx, "carol")
	resp, _ := admin.post("/users/"+itoa(carol.ID), url.Values{"csrf": {admin.csrf}, "role": {"tech"}, "email": {"carol@example.net"}, "notify": {"1"}})
	if u, _ := e.db.UserByName(ctx, "carol"); resp.StatusCode != 303 || u.Role != "tech" || u.Email != "carol@example.net" || !u.Notify {
		t.Errorf("edit user: %d %+v", resp.StatusCode, u)
	}
	resp, body := admin.post("/users/"+itoa(carol.ID)+"/password", url.Values{"csrf": {admin.csrf}})
	if resp.StatusCode != 200 || !strings.Contains(body, "has a new password") {
		t.Fatalf("reset: %d", resp.StatusCode)
	}
	tom := e.login("tom")
	resp, _ = tom.post("/account/password", url.Values{"csrf": {tom.csrf}, "old": {"wrong"}, "new": {"new password 1"}, "new2": {"new password 1"}})
	if resp.StatusCode != 400 {
		t.Errorf("a wrong old password: %d", resp.StatusCode)
	}
	resp, _ = tom.post("/account/password", url.Values{"csrf": {tom.csrf}, "old": {e.staff["tom"]}, "new": {"new password 1"}, "new2": {"new password 1"}})
	if resp.StatusCode != 303 {
		t.Fatalf("change own password: %d", resp.StatusCode)
	}
	if _, err := e.db.Authenticate(ctx, "tom", "new password 1"); err != nil {
		t.Error("the new password does not work")
	}
	if resp, _ := tom.get("/account"); resp.StatusCode != 200 {
		t.Errorf("after the change the user is logged out: %d", resp.StatusCode)
	}
}

func TestCodeTableEdit(t *testing.T) {
	e := newEnv(t)
	c := e.login("tom")
	resp, _ := c.post("/codes/23", url.Values{"csrf": {c.csrf}, "name": {"Partial transfer"}, "meaning": {"Some files failed."}, "action": {"Add an exception if backed up elsewhere."}})
	if resp.StatusCode != 303 {
		t.Fatalf("set code: %d", resp.StatusCode)
	}
	if ci, _ := e.db.CodeInfo(context.Background(), 23); ci.Meaning != "Some files failed." {
		t.Errorf("code 23 = %+v", ci)
	}
	if resp, _ := c.post("/codes/23", url.Values{"csrf": {c.csrf}, "name": {""}}); resp.StatusCode != 400 {
		t.Errorf("empty code text: %d", resp.StatusCode)
	}
}

// inPage is how html/template writes a text value: it escapes '+' too
// (as &#43;), which fingerprints often hold.
func inPage(s string) string {
	return strings.ReplaceAll(template.HTMLEscapeString(s), "+", "&#43;")
}
