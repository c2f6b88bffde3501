package report

import (
	"crypto/ed25519"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

func TestZoneNameNeverSaysLocal(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no time zone data")
	}
	kolkata, _ := time.LoadLocation("Asia/Kolkata")
	dubai, _ := time.LoadLocation("Asia/Dubai")
	winter := time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)
	summer := time.Date(2026, 7, 15, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name string
		loc  *time.Location
		at   time.Time
		want string
	}{
		{"UTC is UTC", time.UTC, winter, "UTC"},
		{"a named zone in winter", berlin, winter, "Europe/Berlin (CET)"},
		{"a named zone in summer", berlin, summer, "Europe/Berlin (CEST)"},
		{"a zone without letters for its abbreviation", dubai, winter, "Asia/Dubai (UTC+04:00)"},
		{"an unnamed zone", time.FixedZone("", 3600), winter, "UTC+01:00"},
		{"India", kolkata, winter, "Asia/Kolkata (IST)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := ZoneName(c.loc, c.at); got != c.want {
				t.Errorf("ZoneName(%s) = %q, want %q", c.loc, got, c.want)
			}
		})
	}
	t.Setenv("TZ", "Europe/Berlin")
	if got := ZoneName(time.Local, winter); strings.Contains(got, "Local") || !strings.HasPrefix(got, "Europe/Berlin") {
		t.Errorf("machine zone with TZ=Europe/Berlin named %q", got)
	}
}

func TestUploadLinesQuoteNamesThatNeedIt(t *testing.T) {
	pub, _, _ := ed25519.GenerateKey(nil)
	hk, _ := gossh.NewPublicKey(pub)
	for _, c := range []struct {
		name, customer, server string
		want                   map[string]string
	}{
		{"plain names", "acme", "exch01", map[string]string{
			"sshexe": `type c:\stats.out | ssh.exe -i e:\atc\id_dsa.txt -p 2222 backup@backup.example.net "cat > /reports/acme/exch01.out"`,
			"plink":  `plink -batch -P 2222 -i key.ppk -hostkey ` + gossh.FingerprintSHA256(hk) + ` backup@backup.example.net "cat > /reports/acme/exch01.out" < stats.out`,
			"scp":    `scp -i ~/.ssh/id_ed25519 -P 2222 stats.out backup@backup.example.net:/reports/acme/exch01.out`,
		}},
		{"a name with a blank and an umlaut", "müller", "Büro PC", map[string]string{
			"ssh":  `ssh -i ~/.ssh/id_ed25519 -p 2222 backup@backup.example.net "cat > '/reports/müller/Büro PC.out'" < stats.out`,
			"sftp": `echo 'put stats.out "/reports/müller/Büro PC.out"' | sftp -i ~/.ssh/id_ed25519 -P 2222 -b - backup@backup.example.net`,
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := NewInstructions("backup.example.net", 2222, c.customer, c.server, []gossh.PublicKey{hk}, ClientFiles{})
			got := map[string]string{}
			for _, l := range in.Lines {
				got[l.ID] = l.Line
			}
			for id, want := range c.want {
				if got[id] != want {
					t.Errorf("%s line:\n got %s\nwant %s", id, got[id], want)
				}
			}
			if len(in.HostKeys) != 1 || !strings.HasPrefix(in.HostKeys[0].KnownHosts, "[backup.example.net]:2222 ssh-ed25519 AAAA") ||
				!strings.HasPrefix(in.HostKeys[0].PuTTYName, "ssh-ed25519@2222:backup.example.net") {
				t.Errorf("host key lines = %+v", in.HostKeys)
			}
		})
	}
}

func TestHostForPrefersTheBaseURL(t *testing.T) {
	for _, c := range []struct{ base, host, want string }{
		{"https://backup.example.net/", "10.0.0.5:8080", "backup.example.net"},
		{"", "10.0.0.5:8080", "10.0.0.5"},
		{"", "[2001:db8::1]:8080", "2001:db8::1"},
		{"", "backup.lan", "backup.lan"},
	} {
		if got := hostFor(c.base, c.host); got != c.want {
			t.Errorf("hostFor(%q, %q) = %q, want %q", c.base, c.host, got, c.want)
		}
	}
}
