// Command backupreport receives the nightly rsync reports of an MSP's
// customers over SSH, judges them, stores them in SQLite and shows them to
// staff. This package only wires flags, environment and signals to the
// packages that do the work.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
)

// Exit statuses shared by every command.
const (
	exitOK      = 0 // success (for parse: the run is ok)
	exitFailure = 1 // the command ran and failed, or the verdict is failed
	exitUsage   = 2 // bad flags or arguments, unreadable input
)

// app carries what every command needs from the process: its streams and
// environment. Tests build one with buffers instead of the real ones.
type app struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
	// isTerminal reports whether stdout is a terminal (for progress bars).
	isTerminal bool
}

// command is one subcommand of backupreport.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, a *app, args []string) int
}

// commands is filled by the init functions of the files that implement them.
var commands = map[string]*command{}

func register(c *command) { commands[c.name] = c }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	a := &app{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv, isTerminal: isTerminal(os.Stdout)}
	code := a.main(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}

// main dispatches to a subcommand and returns the process exit status.
func (a *app) main(ctx context.Context, args []string) int {
	if len(args) == 0 {
		a.usage(a.stderr)
		return exitUsage
	}
	switch args[0] {
	case "-h", "--help", "-help", "help":
		if len(args) > 1 {
			if c, ok := commands[args[1]]; ok {
				return c.run(ctx, a, []string{"--help"})
			}
		}
		a.usage(a.stdout)
		return exitOK
	case "version", "--version":
		fmt.Fprintln(a.stdout, "backupreport", version)
		return exitOK
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(a.stderr, "backupreport: unknown command %q\n\n", args[0])
		a.usage(a.stderr)
		return exitUsage
	}
	return c.run(ctx, a, args[1:])
}

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func (a *app) usage(w io.Writer) {
	fmt.Fprintln(w, "backupreport: receives, judges and reports customers' nightly rsync backups.")
	fmt.Fprintln(w, "\nUsage: backupreport COMMAND [flags] [args]\n\nCommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-12s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'backupreport COMMAND --help' for a command's flags.")
	fmt.Fprintln(w, "Every flag can also be set with BACKUPREPORT_<FLAG> (e.g. BACKUPREPORT_DATA).")
}

// newFlags returns a flag set for a command whose usage text names its
// arguments. Errors are returned, not fatal, so the command maps them to
// exitUsage.
func (a *app) newFlags(name, argsUsage, description string) *flag.FlagSet {
	fs := flag.NewFlagSet("backupreport "+name, flag.ContinueOnError)
	fs.SetOutput(a.stderr)
	fs.Usage = func() {
		out := fs.Output()
		fmt.Fprintf(out, "Usage: backupreport %s %s\n\n%s\n", name, argsUsage, description)
		hasFlags := false
		fs.VisitAll(func(*flag.Flag) { hasFlags = true })
		if hasFlags {
			fmt.Fprintln(out, "\nFlags:")
			fs.PrintDefaults()
		}
	}
	return fs
}

// parseFlags parses args, first taking defaults from BACKUPREPORT_* variables
// (flag "smtp-addr" reads BACKUPREPORT_SMTP_ADDR). Command-line flags win,
// and flags may come before or after the positional arguments. It returns
// the positional arguments and -1 when parsing succeeded, otherwise the
// exit status to use.
func (a *app) parseFlags(fs *flag.FlagSet, args []string) ([]string, int) {
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		key := envName(f.Name)
		if v := a.getenv(key); v != "" && envErr == nil {
			if err := fs.Set(f.Name, v); err != nil {
				envErr = fmt.Errorf("%s=%q: %w", key, v, err)
			}
		}
	})
	if envErr != nil {
		fmt.Fprintf(a.stderr, "backupreport: %v\n", envErr)
		return nil, exitUsage
	}
	for _, arg := range args {
		if arg == "--" {
			break
		}
		if arg == "-h" || arg == "-help" || arg == "--help" {
			fs.SetOutput(a.stdout)
			fs.Usage()
			return nil, exitOK
		}
	}
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, exitUsage
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, -1
		}
		// fs.Parse stops at the first positional argument or after "--".
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(positional, rest...), -1
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// envName is the environment variable that sets a flag's default.
func envName(flagName string) string {
	return "BACKUPREPORT_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// fail prints one clear line on stderr and returns exitFailure.
func (a *app) fail(format string, args ...any) int {
	fmt.Fprintf(a.stderr, "backupreport: "+format+"\n", args...)
	return exitFailure
}

// usageErr prints one line and a hint on stderr and returns exitUsage.
func (a *app) usageErr(fs *flag.FlagSet, format string, args ...any) int {
	fmt.Fprintf(a.stderr, "backupreport: "+format+"\n", args...)
	fmt.Fprintf(a.stderr, "Run '%s --help' for usage.\n", fs.Name())
	return exitUsage
}

func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
