package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/user"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/backupreport/backupreport/store"
)

// group dispatches "backupreport NOUN VERB ..." to the verb's function.
type verb struct {
	usage string
	run   func(ctx context.Context, a *app, args []string) int
}

// groups holds each noun's own verbs, as runGroup was given them, so that
// verbsOf can list a command's verbs without running it.
var groups = map[string]map[string]verb{}

// verbsOf returns the sorted verbs of a command registered with runGroup,
// those added by addVerbs included, and nil for a command without verbs.
func verbsOf(noun string) []string {
	var names []string
	for n := range groups[noun] {
		names = append(names, n)
	}
	for n := range extraVerbs[noun] {
		if _, ok := groups[noun][n]; !ok {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}

func runGroup(noun string, verbs map[string]verb) func(ctx context.Context, a *app, args []string) int {
	groups[noun] = verbs
	return func(ctx context.Context, a *app, args []string) int {
		for k, v := range extraVerbs[noun] {
			if _, ok := verbs[k]; !ok {
				verbs[k] = v
			}
		}
		printUsage := func(w io.Writer) {
			fmt.Fprintf(w, "Usage: backupreport %s VERB [flags] [args]\n\nVerbs:\n", noun)
			names := make([]string, 0, len(verbs))
			for n := range verbs {
				names = append(names, n)
			}
			sort.Strings(names)
			for _, n := range names {
				fmt.Fprintf(w, "  %s %s %s\n", noun, n, verbs[n].usage)
			}
			fmt.Fprintf(w, "\nRun 'backupreport %s VERB --help' for a verb's flags.\n", noun)
		}
		if len(args) == 0 {
			printUsage(a.stderr)
			return exitUsage
		}
		if args[0] == "--help" || args[0] == "-h" || args[0] == "help" {
			printUsage(a.stdout)
			return exitOK
		}
		v, ok := verbs[args[0]]
		if !ok {
			fmt.Fprintf(a.stderr, "backupreport %s: unknown verb %q\n", noun, args[0])
			printUsage(a.stderr)
			return exitUsage
		}
		return v.run(ctx, a, args[1:])
	}
}

// cliActor names the person running a command, for the audit log.
func cliActor() string {
	name := os.Getenv("SUDO_USER")
	if name == "" {
		if u, err := user.Current(); err == nil {
			name = u.Username
		}
	}
	if name == "" {
		name = "unknown"
	}
	return "cli:" + name
}

// withDB parses flags (adding --data), opens the database and runs fn with
// the positional arguments. It checks the number of arguments first.
func (a *app) withDB(ctx context.Context, fsName, argsUsage, desc string, args []string, nargs int, setup func(fs *flag.FlagSet), fn func(db *store.DB, pos []string) int) int {
	fs := a.newFlags(fsName, argsUsage, desc)
	data := dataFlag(fs)
	if setup != nil {
		setup(fs)
	}
	pos, code := a.parseFlags(fs, args)
	if code >= 0 {
		return code
	}
	if nargs >= 0 && len(pos) != nargs {
		return a.usageErr(fs, "want %d argument(s) (%s), got %d", nargs, argsUsage, len(pos))
	}
	db, err := openDB(ctx, data)
	if err != nil {
		return a.fail("%v", err)
	}
	defer db.Close()
	return fn(db, pos)
}

// printJSON writes v as indented JSON.
func (a *app) printJSON(v any) int {
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return a.fail("write JSON: %v", err)
	}
	return exitOK
}

func (a *app) table() *tabwriter.Writer {
	return tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
}

// splitServer splits "CUSTOMER/SERVER"; the server part may be optional.
func splitServer(s string, needServer bool) (customer, server string, err error) {
	customer, server, _ = strings.Cut(s, "/")
	if customer == "" || (needServer && server == "") || strings.Contains(server, "/") {
		if needServer {
			return "", "", fmt.Errorf("%q: want CUSTOMER/SERVER", s)
		}
		return "", "", fmt.Errorf("%q: want CUSTOMER or CUSTOMER/SERVER", s)
	}
	return customer, server, nil
}
