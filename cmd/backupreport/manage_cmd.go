package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/backupreport/backupreport/store"
)

// Command-line equivalents of the management pages that scripts and
// migrations need: a server's state and schedule, a customer's details,
// and a user's password and access.
func init() {
	addVerbs("server", map[string]verb{
		"retire":     {"CUSTOMER/SERVER", serverSet("retire", "Retires a server: it is no longer expected to report and leaves the reports.", func(s *store.Server) { s.Retired = true })},
		"reactivate": {"CUSTOMER/SERVER", serverSet("reactivate", "Reactivates a retired server.", func(s *store.Server) { s.Retired = false })},
		"approve":    {"CUSTOMER/SERVER", serverSet("approve", "Approves a server that an upload registered by itself.", func(s *store.Server) { s.Pending = false })},
		"expect":     {"CUSTOMER/SERVER DAYS", serverExpect},
	})
	addVerbs("customer", map[string]verb{
		"edit": {"SLUG [--name NAME] [--csr USER] [--tsr USER] [--active=true|false]", customerEdit},
	})
	addVerbs("user", map[string]verb{
		"passwd":  {"USERNAME [--password-file F]", userPasswd},
		"disable": {"USERNAME", userSetActive(false)},
		"enable":  {"USERNAME", userSetActive(true)},
	})
}

// extraVerbs holds verbs that files add to a noun registered elsewhere;
// runGroup merges them when the command runs, whatever the init order.
var extraVerbs = map[string]map[string]verb{}

func addVerbs(noun string, verbs map[string]verb) {
	if extraVerbs[noun] == nil {
		extraVerbs[noun] = map[string]verb{}
	}
	for k, v := range verbs {
		extraVerbs[noun][k] = v
	}
}

func serverSet(name, desc string, change func(*store.Server)) func(ctx context.Context, a *app, args []string) int {
	return func(ctx context.Context, a *app, args []string) int {
		return a.withDB(ctx, "server "+name, "CUSTOMER/SERVER", desc, args, 1, nil, func(db *store.DB, pos []string) int {
			s, err := serverArg(ctx, db, pos[0])
			if err != nil {
				return a.fail("%v", err)
			}
			change(&s)
			if err := db.UpdateServer(ctx, cliActor(), s); err != nil {
				return a.fail("%v", err)
			}
			fmt.Fprintf(a.stdout, "%s: %s/%s\n", name, s.Customer, s.Name)
			return exitOK
		})
	}
}

func serverArg(ctx context.Context, db *store.DB, arg string) (store.Server, error) {
	cust, name, err := splitServer(arg, true)
	if err != nil {
		return store.Server{}, err
	}
	s, err := db.ServerByName(ctx, cust, name)
	return s, withFixHint(ctx, db, arg, err)
}

func serverExpect(ctx context.Context, a *app, args []string) int {
	return a.withDB(ctx, "server expect", "CUSTOMER/SERVER DAYS",
		"Sets the nights a server is expected to report: 'daily', or days and ranges such as 'mon-fri'\n"+
			"or 'mon wed fri'. Nights on other days are never counted as missing.",
		args, 2, nil, func(db *store.DB, pos []string) int {
			s, err := serverArg(ctx, db, pos[0])
			if err != nil {
				return a.fail("%v", err)
			}
			mask, err := store.ParseWeekdays(pos[1])
			if err != nil {
				return a.fail("%v", err)
			}
			s.ExpectDays = mask
			if err := db.UpdateServer(ctx, cliActor(), s); err != nil {
				return a.fail("%v", err)
			}
			fmt.Fprintf(a.stdout, "%s/%s is expected: %s\n", s.Customer, s.Name, store.WeekdayNames(mask))
			return exitOK
		})
}

func customerEdit(ctx context.Context, a *app, args []string) int {
	var name, csr, tsr *string
	var active *bool
	return a.withDB(ctx, "customer edit", "SLUG [--name NAME] [--csr USER] [--tsr USER] [--active=true|false]",
		"Changes a customer's name, CSR, TSR or active flag; flags not given keep their value.\n"+
			"--csr '' or --tsr '' clears the assignment. An inactive customer leaves the reports.",
		args, 1, func(fs *flag.FlagSet) {
			name = fs.String("name", "", "the customer's full name")
			csr = fs.String("csr", "", "username of the customer service rep ('' for none)")
			tsr = fs.String("tsr", "", "username of the technician ('' for none)")
			active = fs.Bool("active", true, "whether the customer is active")
		}, func(db *store.DB, pos []string) int {
			c, err := db.CustomerBySlug(ctx, pos[0])
			if err != nil {
				return a.fail("%v", err)
			}
			set := map[string]bool{}
			for _, arg := range args {
				for _, f := range []string{"name", "csr", "tsr", "active"} {
					if arg == "--"+f || arg == "-"+f || len(arg) > len(f)+2 && (arg[:len(f)+3] == "--"+f+"=" || arg[:len(f)+2] == "-"+f+"=") {
						set[f] = true
					}
				}
			}
			if set["name"] {
				c.Name = *name
			}
			if set["active"] {
				c.Active = *active
			}
			for _, x := range []struct {
				flag string
				val  *string
				id   **int64
			}{{"csr", csr, &c.CSRID}, {"tsr", tsr, &c.TSRID}} {
				if !set[x.flag] {
					continue
				}
				if *x.val == "" {
					*x.id = nil
					continue
				}
				u, err := db.UserByName(ctx, *x.val)
				if err != nil {
					return a.fail("--%s: %v", x.flag, err)
				}
				id := u.ID
				*x.id = &id
			}
			if err := db.UpdateCustomer(ctx, cliActor(), c); err != nil {
				return a.fail("%v", err)
			}
			fmt.Fprintf(a.stdout, "updated customer %s\n", c.Slug)
			return exitOK
		})
}

func userPasswd(ctx context.Context, a *app, args []string) int {
	var pwFile *string
	return a.withDB(ctx, "user passwd", "USERNAME [--password-file F]",
		"Sets a user's password: from --password-file, or standard input when it is not a terminal,\n"+
			"or a generated one that is printed once.",
		args, 1, func(fs *flag.FlagSet) {
			pwFile = fs.String("password-file", "", "read the password from the first line of `FILE`")
		}, func(db *store.DB, pos []string) int {
			u, err := db.UserByName(ctx, pos[0])
			if err != nil {
				return a.fail("%v", err)
			}
			pw, generated, err := a.readPassword(*pwFile)
			if err != nil {
				return a.fail("%v", err)
			}
			if err := db.SetPassword(ctx, cliActor(), u.ID, pw); err != nil {
				return a.fail("%v", err)
			}
			if generated {
				fmt.Fprintf(a.stdout, "new password of %s (shown only now): %s\n", u.Username, pw)
			} else {
				fmt.Fprintf(a.stdout, "password of %s changed\n", u.Username)
			}
			return exitOK
		})
}

func userSetActive(active bool) func(ctx context.Context, a *app, args []string) int {
	name, desc := "disable", "Disables a user: they can no longer log in, and their sessions and API tokens stop working."
	if active {
		name, desc = "enable", "Enables a disabled user again."
	}
	return func(ctx context.Context, a *app, args []string) int {
		return a.withDB(ctx, "user "+name, "USERNAME", desc, args, 1, nil, func(db *store.DB, pos []string) int {
			u, err := db.UserByName(ctx, pos[0])
			if err != nil {
				return a.fail("%v", err)
			}
			if err := db.SetUserActive(ctx, cliActor(), u.ID, active); err != nil {
				return a.fail("%v", err)
			}
			fmt.Fprintf(a.stdout, "%sd %s\n", name, u.Username)
			return exitOK
		})
	}
}
