package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/backupreport/backupreport/report/password"
	"github.com/backupreport/backupreport/store"
)

func init() {
	register(&command{name: "user", summary: "add and list staff accounts of the web interface", run: runGroup("user", map[string]verb{
		"add":  {"USERNAME --role admin|tech|csr [--email E] [--password-file F]", userAdd},
		"list": {"[--json]", userList},
	})})
}

// readPassword returns the new user's password: from --password-file,
// else from standard input when it is not a terminal, else a generated
// one (generated reports whether it was).
func (a *app) readPassword(file string) (pw string, generated bool, err error) {
	var r io.Reader
	switch {
	case file != "":
		f, err := os.Open(file)
		if err != nil {
			return "", false, fmt.Errorf("--password-file: %w", err)
		}
		defer f.Close()
		r = f
	case !stdinIsTerminal(a.stdin):
		r = a.stdin
	}
	if r != nil {
		line, err := bufio.NewReader(io.LimitReader(r, 4096)).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", false, fmt.Errorf("read password: %w", err)
		}
		if pw = strings.TrimRight(line, "\r\n"); pw != "" {
			return pw, false, nil
		}
		if file != "" {
			return "", false, fmt.Errorf("--password-file %s is empty", file)
		}
	}
	return password.Generate(), true, nil
}

func stdinIsTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && isTerminal(f)
}

func userAdd(ctx context.Context, a *app, args []string) int {
	var role, email, pwFile *string
	return a.withDB(ctx, "user add", "USERNAME --role admin|tech|csr [--email E] [--password-file F]",
		"Adds a member of staff. The password is read from --password-file, or from standard input when it\n"+
			"is not a terminal (first line); otherwise one is generated and printed once.\n"+
			"Roles: admin (everything), tech (reports, exceptions, notes), csr (reports and notes).",
		args, 1, func(fs *flag.FlagSet) {
			role = fs.String("role", "", "admin, tech or csr (required)")
			email = fs.String("email", "", "e-mail address, for reports")
			pwFile = fs.String("password-file", "", "read the password from the first line of `FILE`")
		},
		func(db *store.DB, pos []string) int {
			if !store.ValidRole(*role) {
				return a.fail("--role must be admin, tech or csr, got %q", *role)
			}
			pw, generated, err := a.readPassword(*pwFile)
			if err != nil {
				return a.fail("%v", err)
			}
			u, err := db.AddUser(ctx, cliActor(), store.User{Username: pos[0], Role: store.Role(*role), Email: *email}, pw)
			if errors.Is(err, store.ErrConflict) {
				return a.fail("user %s exists already", pos[0])
			}
			if err != nil {
				return a.fail("%v", err)
			}
			fmt.Fprintf(a.stdout, "added %s (%s)\n", u.Username, u.Role)
			if generated {
				fmt.Fprintf(a.stdout, "password: %s\n(shown only now)\n", pw)
			}
			return exitOK
		})
}

func userList(ctx context.Context, a *app, args []string) int {
	var asJSON *bool
	return a.withDB(ctx, "user list", "[--json]", "Lists staff accounts.", args, 0,
		func(fs *flag.FlagSet) { asJSON = fs.Bool("json", false, "print a JSON array") },
		func(db *store.DB, _ []string) int {
			us, err := db.Users(ctx)
			if err != nil {
				return a.fail("%v", err)
			}
			if *asJSON {
				return a.printJSON(us)
			}
			tw := a.table()
			fmt.Fprintln(tw, "USERNAME\tROLE\tEMAIL\tSTATE\tCREATED")
			for _, u := range us {
				state := "active"
				if !u.Active {
					state = "disabled"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.Username, u.Role, u.Email, state, u.CreatedAt.Local().Format("2006-01-02"))
			}
			tw.Flush()
			return exitOK
		})
}
