package report

import (
	"net"
	"net/url"
	"strconv"
	"strings"

	gossh "golang.org/x/crypto/ssh"

	"github.com/backupreport/backupreport/keys"
)

// Instructions are what a technician copies to a customer's machine for
// one server: the upload lines for each client, and the host key in every
// form a client wants to trust it. The web's onboarding page and the
// 'onboard' command show the same Instructions.
type Instructions struct {
	Customer, Server string
	Host             string // the name clients connect to
	Port             int    // the SSH port
	Target           string // the upload path, /reports/<customer>/<server>.out
	Lines            []UploadLine
	HostKeys         []HostKeyLines
}

// UploadLine is one client's command line.
type UploadLine struct {
	Client string // "cwRsync ssh.exe (backup.bat)", "plink", ...
	Line   string
	ID     string // a stable HTML id: sshexe, plink, ssh, sftp, scp
}

// HostKeyLines is one host key of the SSH endpoint in every client's form.
type HostKeyLines struct {
	Type       string
	SHA256     string // as ssh -v, ssh-keygen -l and plink -hostkey print it
	MD5        string // as old clients (cwRsync's OpenSSH before 6.8) print it
	KnownHosts string // a line for OpenSSH's known_hosts
	PuTTYName  string // PuTTY's entry: registry SshHostKeys or ~/.putty/sshhostkeys
	PuTTYValue string
	HostKeyArg string // plink's argument: -hostkey SHA256:...
}

// Paths on the customer's machine; empty fields take each client's usual
// file names (backup.bat's e:\atc\id_dsa.txt and c:\stats.out).
type ClientFiles struct {
	KeyFile    string
	ReportFile string
}

// NewInstructions builds the instructions for customer/server, reached at
// host:port, whose SSH endpoint offers hostKeys.
func NewInstructions(host string, port int, customer, server string, hostKeys []gossh.PublicKey, files ClientFiles) Instructions {
	if port == 0 {
		port = 22
	}
	in := Instructions{Customer: customer, Server: server, Host: host, Port: port, Target: "/reports/" + customer + "/" + server + ".out"}
	remote := shellPath(in.Target)
	cat := `"cat > ` + remote + `"`
	user := "backup@" + host
	p := strconv.Itoa(port)
	pick := func(given, def string) string {
		if given != "" {
			return given
		}
		return def
	}
	winKey, winReport := pick(files.KeyFile, `e:\atc\id_dsa.txt`), pick(files.ReportFile, `c:\stats.out`)
	ppk, key, report := pick(files.KeyFile, `key.ppk`), pick(files.KeyFile, `~/.ssh/id_ed25519`), pick(files.ReportFile, `stats.out`)
	var hostKeyArgs []string
	for _, hk := range hostKeys {
		hostKeyArgs = append(hostKeyArgs, "-hostkey "+gossh.FingerprintSHA256(hk))
	}
	in.Lines = []UploadLine{
		{Client: "cwRsync ssh.exe (the backup.bat line)", ID: "sshexe",
			Line: "type " + winReport + " | ssh.exe -i " + winKey + " -p " + p + " " + user + " " + cat},
		{Client: "PuTTY plink", ID: "plink",
			Line: "plink -batch -P " + p + " -i " + ppk + " " + strings.Join(hostKeyArgs, " ") + " " + user + " " + cat + " < " + report},
		{Client: "OpenSSH ssh", ID: "ssh",
			Line: "ssh -i " + key + " -p " + p + " " + user + " " + cat + " < " + report},
		{Client: "OpenSSH sftp", ID: "sftp",
			Line: "echo 'put " + report + " " + sftpPath(in.Target) + "' | sftp -i " + key + " -P " + p + " -b - " + user},
		{Client: "OpenSSH scp", ID: "scp",
			Line: "scp -i " + key + " -P " + p + " " + report + " " + scpTarget(user, in.Target)},
	}
	for _, hk := range hostKeys {
		l := HostKeyLines{Type: hk.Type(), SHA256: gossh.FingerprintSHA256(hk), MD5: gossh.FingerprintLegacyMD5(hk),
			KnownHosts: keys.KnownHostsLine(host, port, hk), HostKeyArg: "-hostkey " + gossh.FingerprintSHA256(hk)}
		if name, value, err := keys.PuTTYHostKey(host, port, hk); err == nil {
			l.PuTTYName, l.PuTTYValue = name, value
		}
		in.HostKeys = append(in.HostKeys, l)
	}
	return in
}

// plainPath reports whether p needs no quoting in any shell we print for.
func plainPath(p string) bool {
	for _, r := range p {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/._-+@", r)) {
			return false
		}
	}
	return true
}

// shellPath is the path inside "cat > …": single-quoted when it holds
// blanks or other characters (the SSH side accepts a quoted path).
func shellPath(p string) string {
	if plainPath(p) {
		return p
	}
	return "'" + strings.ReplaceAll(p, "'", `'\''`) + "'"
}

func sftpPath(p string) string {
	if plainPath(p) {
		return p
	}
	return `"` + strings.ReplaceAll(p, `"`, `\"`) + `"`
}

func scpTarget(user, p string) string {
	if plainPath(p) {
		return user + ":" + p
	}
	return "'" + user + ":" + strings.ReplaceAll(p, "'", `'\''`) + "'"
}

// hostFor is the host name clients connect to: the --base-url's host when
// one is set, else the host the browser used, without a port.
func hostFor(baseURL, requestHost string) string {
	if u, err := url.Parse(baseURL); err == nil && u.Hostname() != "" {
		return u.Hostname()
	}
	if h, _, err := net.SplitHostPort(requestHost); err == nil {
		return strings.Trim(h, "[]")
	}
	if requestHost == "" {
		return "HOST"
	}
	return strings.Trim(requestHost, "[]")
}
