package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/backupreport/backupreport/keys"
	"github.com/backupreport/backupreport/store"
)

func init() {
	register(&command{name: "key", summary: "register, list, revoke and import customers' SSH keys", run: runGroup("key", map[string]verb{
		"add":    {"CUSTOMER[/SERVER] FILE|- [--forced]", keyAdd},
		"list":   {"[--json]", keyList},
		"revoke": {"FINGERPRINT", keyRevoke},
		"import": {"AUTHORIZED_KEYS [--dry-run]", keyImport},
	})})
}

// readInput reads a file argument, or standard input for "-".
func (a *app) readInput(name string) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(io.LimitReader(a.stdin, 1<<20))
	}
	return os.ReadFile(name)
}

func keyAdd(ctx context.Context, a *app, args []string) int {
	var forced *bool
	return a.withDB(ctx, "key add", "CUSTOMER[/SERVER] FILE|- [--forced]",
		"Registers a public key for a customer, or for one server of it. FILE holds an OpenSSH line,\n"+
			"an RFC 4716 block (---- BEGIN SSH2 PUBLIC KEY ----, as PuTTYgen exports) or a .ppk file\n"+
			"(only its public part is read). Prints the key's fingerprint.\n"+
			"--forced (CUSTOMER/SERVER only) gives the key the forced command\n"+
			"cat > /reports/CUSTOMER/SERVER.out, as the old server's authorized_keys did: its uploads go to\n"+
			"that server whatever command the client sends, or with none.",
		args, 2, func(fs *flag.FlagSet) {
			forced = fs.Bool("forced", false, "upload to the key's server whatever command the client sends (as a forced command did)")
		}, func(db *store.DB, pos []string) int {
			cust, srv, err := splitServer(pos[0], false)
			if err != nil {
				return a.fail("%v", err)
			}
			command := ""
			if *forced {
				if srv == "" {
					return a.fail("--forced needs CUSTOMER/SERVER: a forced command writes one server's report")
				}
				command = "cat > /reports/" + cust + "/" + srv + ".out"
			}
			data, err := a.readInput(pos[1])
			if err != nil {
				return a.fail("read key: %v", err)
			}
			_, info, err := keys.ParsePublicKey(data)
			if err != nil {
				return a.fail("%s: %v", pos[1], err)
			}
			k, err := db.AddKey(ctx, cliActor(), store.Key{Customer: cust, Server: srv, Fingerprint: info.Fingerprint, Type: info.Type,
				Bits: info.Bits, PublicKey: info.Authorized, Comment: info.Comment, ForcedCommand: command})
			if errors.Is(err, store.ErrConflict) {
				return a.fail("key %s is already registered", info.Fingerprint)
			}
			if err != nil {
				return a.fail("%v", withFixHint(ctx, db, pos[0], err))
			}
			fmt.Fprintln(a.stdout, k.Fingerprint)
			return exitOK
		})
}

func keyList(ctx context.Context, a *app, args []string) int {
	var asJSON *bool
	return a.withDB(ctx, "key list", "[--json]", "Lists registered keys with their last login.", args, 0,
		func(fs *flag.FlagSet) { asJSON = fs.Bool("json", false, "print a JSON array") },
		func(db *store.DB, _ []string) int {
			ks, err := db.Keys(ctx)
			if err != nil {
				return a.fail("%v", err)
			}
			if *asJSON {
				return a.printJSON(ks)
			}
			tw := a.table()
			fmt.Fprintln(tw, "CUSTOMER\tSERVER\tTYPE\tBITS\tFINGERPRINT\tSTATE\tLAST USED\tCLIENT\tFORCED COMMAND")
			for _, k := range ks {
				state, used := "active", "never"
				if k.RevokedAt != nil {
					state = "revoked"
				}
				if k.LastUsedAt != nil {
					used = k.LastUsedAt.Local().Format(cliTime)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\n", k.Customer, k.Server, k.Type, k.Bits, k.Fingerprint, state, used, k.Login.ClientVersion, k.ForcedCommand)
			}
			tw.Flush()
			return exitOK
		})
}

func keyRevoke(ctx context.Context, a *app, args []string) int {
	return a.withDB(ctx, "key revoke", "FINGERPRINT", "Revokes a key: its uploads are refused from now on.", args, 1, nil,
		func(db *store.DB, pos []string) int {
			if err := db.RevokeKey(ctx, cliActor(), pos[0]); err != nil {
				return a.fail("%v", err)
			}
			fmt.Fprintf(a.stdout, "revoked %s\n", pos[0])
			return exitOK
		})
}

func keyImport(ctx context.Context, a *app, args []string) int {
	var dryRun *bool
	return a.withDB(ctx, "key import", "AUTHORIZED_KEYS",
		"Imports the old server's authorized_keys. Each line's command=\"cat > /reports/<customer>/...\"\n"+
			"option names its customer and server (created as needed; the key is bound to that server and keeps\n"+
			"the command as its forced command: it uploads to that server whatever the client sends, as OpenSSH\n"+
			"ran it). Lines without one are reported, not guessed. Exit status 1 when any line was not imported.",
		args, 1, func(fs *flag.FlagSet) {
			dryRun = fs.Bool("dry-run", false, "report what would be imported, change nothing")
		},
		func(db *store.DB, pos []string) int {
			data, err := a.readInput(pos[0])
			if err != nil {
				return a.fail("read %s: %v", pos[0], err)
			}
			entries, problems, err := keys.ParseAuthorizedKeys(bytesReader(data))
			if err != nil {
				return a.fail("%s: %v", pos[0], err)
			}
			actor := cliActor()
			imported := 0
			for _, e := range entries {
				what := fmt.Sprintf("line %d: %s %s for %s", e.Line, e.Info.Type, e.Info.Fingerprint, e.Customer)
				if e.Command != "" {
					what += fmt.Sprintf("/%s, forced command %q", e.Server, e.Command)
				}
				if *dryRun {
					fmt.Fprintf(a.stdout, "would import %s\n", what)
					continue
				}
				if err := importKey(ctx, db, actor, e); err != nil {
					problems = append(problems, keys.Problem{Line: e.Line, Reason: err.Error()})
					continue
				}
				imported++
				fmt.Fprintf(a.stdout, "imported %s\n", what)
			}
			for _, p := range problems {
				fmt.Fprintf(a.stderr, "%s: line %d not imported: %s\n", pos[0], p.Line, p.Reason)
			}
			fmt.Fprintf(a.stdout, "%d imported, %d not imported\n", imported, len(problems))
			if len(problems) > 0 {
				return exitFailure
			}
			return exitOK
		})
}

// importKey registers one authorized_keys entry, creating its customer and
// server as needed. A line whose forced command names one report file is
// bound to that server, as the old server only ever let it write that file.
func importKey(ctx context.Context, db *store.DB, actor string, e keys.AuthorizedEntry) error {
	if _, err := db.CustomerBySlug(ctx, e.Customer); errors.Is(err, store.ErrNotFound) {
		if _, err := db.AddCustomer(ctx, actor, store.Customer{Slug: e.Customer}); err != nil {
			return err
		}
	}
	if e.Server != "" {
		if _, err := db.ServerByName(ctx, e.Customer, e.Server); errors.Is(err, store.ErrNotFound) {
			if _, err := db.AddServer(ctx, actor, e.Customer, e.Server, false); err != nil {
				return err
			}
		}
	}
	_, err := db.AddKey(ctx, actor, store.Key{Customer: e.Customer, Server: e.Server, Fingerprint: e.Info.Fingerprint, Type: e.Info.Type,
		Bits: e.Info.Bits, PublicKey: e.Info.Authorized, Comment: e.Info.Comment, ForcedCommand: e.Command})
	if errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("key %s is already registered", e.Info.Fingerprint)
	}
	return err
}
