package main

import (
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/backupreport/backupreport/store"
)

// TestNamingRule drives the naming rule through the CLI, an upload with
// the real ssh client and an import, and shows that a name stored before
// the rule still uploads and shows.
func TestNamingRule(t *testing.T) {
	in := startServe(t)
	in.mustCLI("customer", "add", "acme")
	in.mustCLI("server", "add", "acme/fs01")
	in.mustCLI("server", "add", "acme/Büro")
	key := in.newKey("acme", "ed25519", 0)
	in.addKey("acme", key)
	rep := statsOut(t, "real-success")

	t.Run("the CLI refuses", func(t *testing.T) {
		for _, c := range []struct {
			why  string
			args []string
			want string
		}{
			{"a customer with a fullwidth solidus", []string{"customer", "add", "acme\uFF0Feu"}, `customer name "acme／eu" contains U+FF0F FULLWIDTH SOLIDUS (／), which looks like "/"; use - or _ instead`},
			{"a server with a division slash", []string{"server", "add", "acme/fs\u221502"}, `server name "fs∕02" contains U+2215 DIVISION SLASH (∕), which looks like "/"`},
			{"a customer mixing Cyrillic and Latin letters", []string{"customer", "add", "\u0430cme"}, "mixes Cyrillic and Latin letters"},
			{"a server with a zero-width space", []string{"server", "add", "acme/fs\u200B02"}, "invisible character U+200B ZERO WIDTH SPACE"},
		} {
			t.Run(c.why, func(t *testing.T) {
				r := in.cli(c.args...)
				if r.code != 1 || !strings.Contains(r.stderr, c.want) {
					t.Errorf("%v: exit %d, stderr %q; want exit 1 saying %q", c.args, r.code, r.stderr, c.want)
				}
			})
		}
	})

	t.Run("a key import does not create a look-alike server", func(t *testing.T) {
		pub, err := os.ReadFile(in.newKey("old", "ed25519", 0) + ".pub")
		if err != nil {
			t.Fatal(err)
		}
		ak := filepath.Join(in.dir, "authorized_keys")
		line := `command="cat > /reports/acme/nas` + "\u2215" + `03.out" ` + string(pub)
		if err := os.WriteFile(ak, []byte(line), 0o600); err != nil {
			t.Fatal(err)
		}
		r := in.cli("key", "import", ak)
		if r.code != 1 || !strings.Contains(r.stderr, `line 1 not imported: add server: server name "nas∕03" contains U+2215`) {
			t.Errorf("exit %d, stderr %q; want line 1 refused", r.code, r.stderr)
		}
	})

	t.Run("an upload does not register a look-alike name", func(t *testing.T) {
		r := in.upload(key, "cat > /reports/acme/fs\u221502.out", rep)
		if r.code != 1 || !strings.Contains(r.stderr, "U+2215 DIVISION SLASH") || !strings.Contains(r.stderr, "nothing was stored: change the name in the upload path") {
			t.Errorf("exit %d, stderr %q; want a refusal that says what to do", r.code, r.stderr)
		}
		if out := in.mustCLI("server", "list"); strings.Contains(out, "fs\u221502") {
			t.Errorf("the refused name was registered:\n%s", out)
		}
	})

	t.Run("a decomposed path reaches the server stored in NFC", func(t *testing.T) {
		if r := in.upload(key, "cat > /reports/acme/Bu\u0308ro.out", rep); r.code != 0 {
			t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
		}
		if n := in.historyLen("acme/Büro"); n != 1 {
			t.Errorf("Büro has %d results, want 1", n)
		}
		if out := in.mustCLI("server", "list"); strings.Count(out, "ro ") != 1 {
			t.Errorf("a second Büro was registered:\n%s", out)
		}
	})

	// Names stored before the rule: rename in the database, as the old
	// rules let "server add" do.
	db, err := sql.Open("sqlite", "file:"+filepath.Join(in.data, store.FileName)+"?_pragma=busy_timeout(15000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE servers SET name = ? WHERE name = 'fs01'`, "fs\u221501"); err != nil {
		t.Fatal(err)
	}

	t.Run("a name stored before the rule still uploads and shows", func(t *testing.T) {
		if r := in.upload(key, "cat > /reports/acme/fs\u221501.out", rep); r.code != 0 {
			t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
		}
		if n := in.historyLen("acme/fs\u221501"); n != 1 {
			t.Errorf("fs∕01 has %d results, want 1", n)
		}
		if row, ok := in.status()["acme/fs\u221501"]; !ok || row.Status != "ok" {
			t.Errorf("status of fs∕01: %+v (found %v), want ok", row, ok)
		}
	})

	t.Run("an import updates the old name but refuses a new look-alike", func(t *testing.T) {
		csv := filepath.Join(in.dir, "servers.csv")
		write := func(s string) {
			if err := os.WriteFile(csv, []byte(s), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		write("customer,server,expect_days\nacme,fs\u221501,mon-fri\nacme,nas\u221502,daily\n")
		if r := in.cli("import", "servers", csv); r.code != 1 || !strings.Contains(r.stderr, `line 3: add server: server name "nas∕02" contains U+2215`) ||
			!strings.Contains(r.stderr, "nothing was changed") {
			t.Errorf("exit %d, stderr %q; want line 3 refused", r.code, r.stderr)
		}
		write("customer,server,expect_days\nacme,fs\u221501,mon-fri\n")
		if r := in.cli("import", "servers", csv); r.code != 0 || !strings.Contains(r.stdout, "line 2: update server acme/fs∕01") {
			t.Errorf("exit %d, stdout %q, stderr %q; want the old name updated", r.code, r.stdout, r.stderr)
		}
	})
}
