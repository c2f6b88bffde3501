// Package demo fills an empty database with made-up customers, staff and
// nights of results for trying the product; see Seed.
package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/backupreport/backupreport/parser"
	"github.com/backupreport/backupreport/report/password"
	"github.com/backupreport/backupreport/store"
)

// Options shape the demo data.
type Options struct {
	Nights   int            // nights of results; 90 when 0
	Now      time.Time      // the present; time.Now when zero
	Location *time.Location // nights are counted here; time.Local when nil
	Seed     uint64         // the same seed gives the same data
}

// Staff is a member of staff the demo made, with their password.
type Staff struct {
	Username, Role, Password string
}

// Result says what Seed made.
type Result struct {
	Customers, Servers, Results int
	Staff                       []Staff
}

type demoServer struct {
	name     string
	profile  string // steady, locked-pst, flaky, dead, vanishing, new
	size     int64
	customer string
}

var demoCustomers = []struct {
	slug, name, csr, tsr string
	servers              []demoServer
	exception            string
}{
	{"acme", "Acme Accounting Ltd", "carol", "tom", []demoServer{{name: "EXCH01", profile: "locked-pst", size: 48 << 30}, {name: "FS01", profile: "steady", size: 310 << 30}, {name: "DC01", profile: "steady", size: 12 << 30}}, ""},
	{"baker-dental", "Baker Family Dental", "carol", "dan", []demoServer{{name: "XRAY", profile: "flaky", size: 120 << 30}, {name: "FRONTDESK", profile: "vanishing", size: 8 << 30}}, ""},
	{"northwind", "Northwind Traders", "erin", "tom", []demoServer{{name: "SQL01", profile: "encrypted", size: 95 << 30}, {name: "SBS2011", profile: "dead", size: 60 << 30}, {name: "FILES", profile: "excepted", size: 220 << 30}}, "*.pst"},
	{"riverside-law", "Riverside Law Partners", "erin", "dan", []demoServer{{name: "DOCS", profile: "wiped", size: 410 << 30}, {name: "MAIL", profile: "locked-pst", size: 75 << 30}}, ""},
	{"sunrise-school", "Sunrise Primary School", "carol", "tom", []demoServer{{name: "ADMIN-PC", profile: "killed", size: 30 << 30}, {name: "NAS", profile: "new", size: 900 << 30}}, ""},
}

var demoStaff = []struct {
	name  string
	role  store.Role
	email string
}{
	{"alice", store.RoleAdmin, "alice@msp.example"},
	{"tom", store.RoleTech, "tom@msp.example"},
	{"dan", store.RoleTech, "dan@msp.example"},
	{"carol", store.RoleCSR, "carol@msp.example"},
	{"erin", store.RoleCSR, "erin@msp.example"},
}

// Seed fills an empty database with demo customers, servers, staff
// and nights of results. Each result is made the way a real upload is:
// rsync output is generated, parsed by parser.Parse, judged against the
// exceptions and stored with its compressed raw log. Everything is marked demo
// (customers.demo and the "demo" setting). It refuses a database that
// holds anything but demo data, and one that already holds demo data.
func Seed(ctx context.Context, db *store.DB, o Options) (Result, error) {
	var res Result
	kind, err := db.DataKind(ctx)
	if err != nil {
		return res, err
	}
	switch kind {
	case store.DataReal:
		return res, fmt.Errorf("the database holds real data (customers, keys or uploads not made by demo); demo will not touch it")
	case store.DataDemo:
		return res, fmt.Errorf("the database holds demo data already")
	}
	if o.Nights <= 0 {
		o.Nights = 90
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if o.Location == nil {
		o.Location = time.Local
	}
	rng := rand.New(rand.NewPCG(o.Seed, 0x6261636b7570))
	const actor = "demo"
	if err := db.SetSetting(ctx, store.SettingDemo, o.Now.UTC().Format(time.RFC3339)); err != nil {
		return res, err
	}
	ids := map[string]*int64{}
	for _, s := range demoStaff {
		pw := password.Generate()
		u, err := db.AddUser(ctx, actor, store.User{Username: s.name, Role: s.role, Email: s.email}, pw)
		if err != nil {
			return res, fmt.Errorf("demo staff: %w", err)
		}
		id := u.ID
		ids[s.name] = &id
		res.Staff = append(res.Staff, Staff{Username: s.name, Role: string(s.role), Password: pw})
	}
	lastNight, _ := time.Parse(time.DateOnly, string(store.LastCompleteNight(o.Now, o.Location)))
	firstNight := lastNight.AddDate(0, 0, -(o.Nights - 1))
	origNow := db.Now
	defer func() { db.Now = origNow }()
	for _, c := range demoCustomers {
		db.Now = func() time.Time {
			return store.Night(firstNight.Format(time.DateOnly)).Noon(o.Location).Add(-24 * time.Hour)
		}
		if _, err := db.AddCustomer(ctx, actor, store.Customer{Slug: c.slug, Name: c.name, CSRID: ids[c.csr], TSRID: ids[c.tsr], Demo: true}); err != nil {
			return res, fmt.Errorf("demo customer: %w", err)
		}
		res.Customers++
		if c.exception != "" {
			if _, err := db.AddException(ctx, actor, c.slug, c.exception, "Outlook archives are backed up by the mail server"); err != nil {
				return res, err
			}
		}
		for _, ds := range c.servers {
			start := firstNight
			if ds.profile == "new" {
				start = lastNight.AddDate(0, 0, -9)
			}
			db.Now = func() time.Time { return store.Night(start.Format(time.DateOnly)).Noon(o.Location) }
			srv, err := db.AddServer(ctx, actor, c.slug, ds.name, ds.profile == "new")
			if err != nil {
				return res, fmt.Errorf("demo server: %w", err)
			}
			res.Servers++
			exs, err := db.ExceptionsFor(ctx, srv.ID)
			if err != nil {
				return res, err
			}
			ds.customer = c.slug
			for d := start; !d.After(lastNight); d = d.AddDate(0, 0, 1) {
				age := int(lastNight.Sub(d).Hours() / 24)
				text, ok := demoNight(rng, ds, age)
				if !ok {
					continue
				}
				night := d.Format(time.DateOnly)
				at := store.Night(night).Noon(o.Location).Add(13*time.Hour + time.Duration(rng.IntN(150))*time.Minute)
				if at.After(o.Now) {
					continue
				}
				if err := saveDemo(ctx, db, srv.ID, at, night, text, exs); err != nil {
					return res, err
				}
				res.Results++
			}
		}
	}
	return res, nil
}

func saveDemo(ctx context.Context, db *store.DB, serverID int64, at time.Time, night, text string, exs []store.Exception) error {
	r, err := parser.Parse(strings.NewReader(text))
	if err != nil {
		return fmt.Errorf("parse demo report: %w", err)
	}
	// Judged as an upload is: against the server's normal so far.
	b, err := db.Baseline(ctx, serverID, store.Night(night))
	if err != nil {
		return err
	}
	parser.Judge(r, parser.Facts{End: parser.EndComplete, Baseline: b, Thresholds: db.Thresholds}, store.Patterns(exs))
	_, err = db.SaveUpload(ctx, store.Upload{Baseline: b,
		ServerID: serverID, ReceivedAt: at, Night: store.Night(night), Source: store.SourceDemo, Protocol: "exec",
		RemoteAddr: fmt.Sprintf("198.51.100.%d:%d", 10+serverID%200, 49152+serverID*7%10000), ClientVersion: "SSH-2.0-OpenSSH_for_Windows_8.1",
		KeyType: "ssh-ed25519", UploadBytes: int64(len(text)), Result: r, Exceptions: exs,
		Log: store.CompressLog([]byte(text)),
	})
	return err
}

// demoNight returns the rsync output of one night of a server, or false
// when no report arrived that night. age is nights before the last one.
func demoNight(rng *rand.Rand, s demoServer, age int) (string, bool) {
	roll := rng.IntN(100)
	switch s.profile {
	case "dead": // stopped reporting five nights ago
		if age < 5 {
			return "", false
		}
		if age < 8 {
			return demoRefused(rng), true
		}
	case "flaky":
		if age < 3 || roll < 15 {
			return demoRefused(rng), true
		}
		if roll < 25 {
			return "", false
		}
	case "locked-pst":
		if age < 2 || roll < 35 {
			return demoLocked(rng, s), true
		}
	case "excepted":
		if roll < 60 {
			return demoLocked(rng, s), true // excepted by *.pst: ok with exceptions
		}
	case "vanishing":
		if roll < 40 {
			return demoVanished(rng, s), true
		}
	case "killed":
		if age == 0 {
			return demoKilled(rng, s), true
		}
	case "wiped": // last night a folder became unreadable: its backup was deleted
		if age == 0 {
			return demoWiped(rng, s), true
		}
	case "encrypted": // last night ransomware rewrote a share: code 0
		if age == 0 {
			return demoEncrypted(rng, s), true
		}
		if roll < 8 {
			return "", false
		}
	}
	if roll < 3 {
		return "", false
	}
	return demoOK(rng, s, age), true
}

var demoFiles = []string{"Finance/ledger-2026.xlsx", "Finance/Company.qbw", "Shared/Contracts/contract-%d.docx", "Users/jsmith/Desktop/notes.txt",
	"Scans/scan-%04d.pdf", "Projects/plan-%d.vsdx", "Images/site-%03d.jpg"}

func demoFileLines(rng *rand.Rand, root string, n int) string {
	var b strings.Builder
	b.WriteString("sending incremental file list\n")
	for i := 0; i < n; i++ {
		f := demoFiles[rng.IntN(len(demoFiles))]
		if strings.Contains(f, "%") {
			f = fmt.Sprintf(f, rng.IntN(900))
		}
		fmt.Fprintf(&b, "%s/%s\n", root, f)
	}
	return b.String()
}

func commas(n int64) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func demoSummary(rng *rand.Rand, s demoServer, age int) (string, int64) {
	total := s.size + int64(90-age)*s.size/900 + rng.Int64N(s.size/200+1)
	sent := total/100 + rng.Int64N(total/50+1)
	recv := 20000 + rng.Int64N(50000)
	secs := 600 + rng.Int64N(3000)
	return fmt.Sprintf("\nsent %s bytes  received %s bytes  %s.%02d bytes/sec\ntotal size is %s  speedup is %.2f\n",
		commas(sent), commas(recv), commas((sent+recv)/secs), rng.IntN(100), commas(total), float64(total)/float64(sent+recv)), total
}

const demoRoot = "/cygdrive/E/shares"

func demoOK(rng *rand.Rand, s demoServer, age int) string {
	sum, _ := demoSummary(rng, s, age)
	return demoFileLines(rng, demoRoot, 5+rng.IntN(20)) + sum
}

func demoLocked(rng *rand.Rand, s demoServer) string {
	var b strings.Builder
	b.WriteString(demoFileLines(rng, demoRoot, 4+rng.IntN(8)))
	fmt.Fprintf(&b, "rsync: send_files failed to open \"%s/Mail/outlook.pst\": Device or resource busy (16)\n", demoRoot)
	if rng.IntN(2) == 0 {
		fmt.Fprintf(&b, "rsync: read errors mapping \"%s/Mail/archive-%d.pst\": Permission denied (13)\n", demoRoot, 2019+rng.IntN(6))
	}
	b.WriteString(demoFileLines(rng, demoRoot, 2)[len("sending incremental file list\n"):])
	sum, _ := demoSummary(rng, s, 0)
	b.WriteString(sum)
	b.WriteString("rsync error: some files/attrs were not transferred (see previous errors) (code 23) at main.c(1207) [sender=3.1.3]\n")
	return b.String()
}

func demoVanished(rng *rand.Rand, s demoServer) string {
	var b strings.Builder
	b.WriteString(demoFileLines(rng, demoRoot, 6))
	fmt.Fprintf(&b, "file has vanished: \"%s/Temp/~$report-%d.docx\"\n", demoRoot, rng.IntN(99))
	sum, _ := demoSummary(rng, s, 0)
	b.WriteString(sum)
	b.WriteString("rsync warning: some files vanished before they could be transferred (code 24) at main.c(1207) [sender=3.1.3]\n")
	return b.String()
}

func demoKilled(rng *rand.Rand, s demoServer) string {
	return demoFileLines(rng, demoRoot, 3+rng.IntN(5)) + demoRoot + "/VM/disk0.vhdx\n"
}

// demoWiped is --delete --ignore-errors on a folder rsync could not read:
// opendir fails, every file of the folder's backup is deleted, the total
// size drops; code 23.
func demoWiped(rng *rand.Rand, s demoServer) string {
	var b strings.Builder
	b.WriteString(demoFileLines(rng, demoRoot, 6))
	fmt.Fprintf(&b, "rsync: opendir \"%s/Projects\" failed: Permission denied (13)\n", demoRoot)
	n := 2000 + rng.IntN(800)
	for i := range n {
		fmt.Fprintf(&b, "deleting %s/Projects/job-%03d/drawing-%d.dwg\n", demoRoot[1:], i/40, i%40)
	}
	total := s.size * 2 / 5
	fmt.Fprintf(&b, "\nsent %s bytes  received %s bytes  %s.00 bytes/sec\ntotal size is %s  speedup is 412.50\n",
		commas(total/400), commas(30000+rng.Int64N(9000)), commas(total/400/900), commas(total))
	b.WriteString("rsync error: some files/attrs were not transferred (see previous errors) (code 23) at main.c(1207) [sender=3.1.3]\n")
	return b.String()
}

// demoEncrypted is what a share being encrypted looks like: every file
// sent again under a new name, many times the usual bytes, code 0.
func demoEncrypted(rng *rand.Rand, s demoServer) string {
	var b strings.Builder
	b.WriteString("sending incremental file list\n")
	for i := range 3000 {
		fmt.Fprintf(&b, "%s/Shared/Contracts/contract-%d.docx.locked\n", demoRoot, i)
	}
	total := s.size + s.size/10
	sent := total * 6 / 10
	fmt.Fprintf(&b, "\nsent %s bytes  received %s bytes  %s.00 bytes/sec\ntotal size is %s  speedup is 1.67\n",
		commas(sent), commas(90000+rng.Int64N(9000)), commas(sent/5400), commas(total))
	return b.String()
}

func demoRefused(rng *rand.Rand) string {
	return fmt.Sprintf("ssh: connect to host backup.msp.example port 22: Connection timed out\n"+
		"rsync: connection unexpectedly closed (0 bytes received so far) [sender]\n"+
		"rsync error: unexplained error (code 255) at io.c(%d) [sender=3.1.3]\n", 200+rng.IntN(100))
}
