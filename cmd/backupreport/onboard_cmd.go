package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"

	gossh "golang.org/x/crypto/ssh"

	"github.com/backupreport/backupreport/keys"
	"github.com/backupreport/backupreport/report"
	"github.com/backupreport/backupreport/store"
)

func init() {
	register(&command{name: "onboard", summary: "set up a customer's server: customer, server, key, upload lines and host key", run: runOnboard})
}

// offeredHostKeys are the host keys serve offers: the old server's keys
// (--host-key) first, replacing our own of the same type, then ours from
// the data folder (created on first use). Customers' known_hosts name the
// old server's keys.
func offeredHostKeys(data string, extra []string) ([]gossh.Signer, error) {
	own, err := keys.LoadOrCreateHostKeys(data)
	if err != nil {
		return nil, fmt.Errorf("host keys: %w", err)
	}
	var offered []gossh.Signer
	have := map[string]bool{}
	for _, f := range extra {
		sg, err := keys.LoadHostKey(f)
		if err != nil {
			return nil, fmt.Errorf("--host-key: %w", err)
		}
		if have[sg.PublicKey().Type()] {
			return nil, fmt.Errorf("--host-key %s: a %s host key was given twice", f, sg.PublicKey().Type())
		}
		have[sg.PublicKey().Type()] = true
		offered = append(offered, sg)
	}
	for _, sg := range own {
		if !have[sg.PublicKey().Type()] {
			offered = append(offered, sg)
		}
	}
	return offered, nil
}

func runOnboard(ctx context.Context, a *app, args []string) int {
	fs := a.newFlags("onboard", "CUSTOMER/SERVER --key FILE|- [flags]",
		"Sets up one server in one step: creates the customer if it is new, the server, and registers its key\n"+
			"(an OpenSSH line, an RFC 4716 block or a .ppk file; only the public part is read) bound to the server.\n"+
			"Then prints the upload lines for cwRsync's ssh.exe (backup.bat), plink, ssh, sftp and scp, the host\n"+
			"key's fingerprints with a known_hosts line, PuTTY's entry and plink's -hostkey argument, and whether\n"+
			"the first upload arrived. Running it again for the same key changes nothing and prints the same.\n"+
			"The web interface's /onboard page does the same.")
	data := dataFlag(fs)
	keyFile := fs.String("key", "", "the server's public key `FILE`, or - for standard input (required)")
	name := fs.String("name", "", "full name of a new customer (default: its short name)")
	baseURL := fs.String("base-url", "", "serve's --base-url; its host is the host in the upload lines")
	host := fs.String("host", "", "host name the customer's machine connects to (default: the --base-url's host, else this machine's name)")
	sshAddr := fs.String("ssh-addr", ":2222", "serve's --ssh-addr; its port is the port in the upload lines")
	port := fs.Int("ssh-port", 0, "SSH port the customer connects to, when a router forwards another one (default: --ssh-addr's port)")
	clientKey := fs.String("key-file", "", `private key's path on the customer's machine (default: e:\atc\id_dsa.txt, key.ppk, ~/.ssh/id_ed25519)`)
	reportFile := fs.String("report-file", "", `report's path on the customer's machine (default: c:\stats.out, stats.out)`)
	var hostKeys stringList
	fs.Var(&hostKeys, "host-key", "serve's --host-key `FILE` (repeatable): the old server's host keys, shown in place of ours of the same type")
	pos, code := a.parseFlags(fs, args)
	if code >= 0 {
		return code
	}
	if len(pos) != 1 {
		return a.usageErr(fs, "want CUSTOMER/SERVER, got %d arguments", len(pos))
	}
	cust, srv, err := splitServer(pos[0], true)
	if err != nil {
		return a.usageErr(fs, "%v", err)
	}
	if *keyFile == "" {
		return a.usageErr(fs, "--key FILE is required (the server's public key; - reads standard input)")
	}
	raw, err := a.readInput(*keyFile)
	if err != nil {
		return a.fail("read key: %v", err)
	}
	_, info, err := keys.ParsePublicKey(raw)
	if err != nil {
		return a.fail("%s: %v", *keyFile, err)
	}
	h := *host
	if h == "" {
		if u, err := url.Parse(*baseURL); err == nil && u.Hostname() != "" {
			h = u.Hostname()
		} else if hn, err := os.Hostname(); err == nil {
			h = hn
		}
	}
	p := *port
	if p == 0 {
		_, ps, err := net.SplitHostPort(*sshAddr)
		if err != nil {
			return a.usageErr(fs, "--ssh-addr %q: %v", *sshAddr, err)
		}
		if p, err = strconv.Atoi(ps); err != nil {
			return a.usageErr(fs, "--ssh-addr %q: no port", *sshAddr)
		}
	}
	db, err := openDB(ctx, data)
	if err != nil {
		return a.fail("%v", err)
	}
	defer db.Close()
	signers, err := offeredHostKeys(*data.dir, hostKeys)
	if err != nil {
		return a.fail("%v", err)
	}
	o, err := db.Onboard(ctx, cliActor(), store.Onboarding{Customer: cust, CustomerName: *name, Server: srv,
		Key: store.Key{Fingerprint: info.Fingerprint, Type: info.Type, Bits: info.Bits, PublicKey: info.Authorized, Comment: info.Comment}})
	if err != nil {
		return a.fail("%v", err)
	}
	w := a.stdout
	if o.NewCustomer {
		fmt.Fprintf(w, "added customer %s\n", o.Customer.Slug)
	}
	if o.NewServer {
		fmt.Fprintf(w, "added server %s/%s\n", o.Server.Customer, o.Server.Name)
	}
	if o.KeyAlreadyBound {
		fmt.Fprintf(w, "key %s was registered for %s/%s already\n", o.Key.Fingerprint, o.Server.Customer, o.Server.Name)
	} else {
		fmt.Fprintf(w, "added key %s (%s %d) for %s/%s\n", o.Key.Fingerprint, o.Key.Type, o.Key.Bits, o.Server.Customer, o.Server.Name)
	}
	var pubs []gossh.PublicKey
	for _, sg := range signers {
		pubs = append(pubs, sg.PublicKey())
	}
	in := report.NewInstructions(h, p, o.Server.Customer, o.Server.Name, pubs, report.ClientFiles{KeyFile: *clientKey, ReportFile: *reportFile})
	fmt.Fprintf(w, "\nUpload lines (each stores a report at %s on %s, port %d):\n", in.Target, in.Host, in.Port)
	for _, l := range in.Lines {
		fmt.Fprintf(w, "  %s:\n    %s\n", l.Client, l.Line)
	}
	fmt.Fprintln(w, "\nHost keys (trust one before the first upload):")
	for _, k := range in.HostKeys {
		fmt.Fprintf(w, "  %s %s (MD5 %s)\n    known_hosts: %s\n", k.Type, k.SHA256, k.MD5, k.KnownHosts)
		if k.PuTTYName != "" {
			fmt.Fprintf(w, "    PuTTY:       %s %s\n", k.PuTTYName, k.PuTTYValue)
		}
		fmt.Fprintf(w, "    plink:       %s\n", k.HostKeyArg)
	}
	res, err := db.FirstUpload(ctx, o.Server.ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		fmt.Fprintf(w, "\nFirst upload: waiting. Run the scheduled task, then 'backupreport history %s/%s' or the web page /onboard/%s/%s.\n",
			o.Server.Customer, o.Server.Name, url.PathEscape(o.Server.Customer), url.PathEscape(o.Server.Name))
	case err != nil:
		return a.fail("%v", err)
	default:
		fmt.Fprintf(w, "\nFirst upload: received %s, %s (code %d, %d file errors), result %d.\n",
			res.ReceivedAt.Local().Format(cliTime), res.Status, res.Code, res.FileErrors, res.ID)
	}
	return exitOK
}
