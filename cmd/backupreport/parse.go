package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/backupreport/backupreport/parser"
)

func init() {
	register(&command{
		name:    "parse",
		summary: "judge one rsync report (stats.out) and print the verdict",
		run:     runParse,
	})
}

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error {
	*l = append(*l, v)
	return nil
}

func runParse(ctx context.Context, a *app, args []string) int {
	fs := a.newFlags("parse", "[FILE|-] [--json] [--exception PATTERN]...",
		"Parse the output of one rsync run (a customer's stats.out) from FILE, or from\n"+
			"standard input when FILE is - or missing, and print the verdict.\n\n"+
			"Exit status: 0 when the run is ok, 1 when it failed, 2 on a usage or read error.")
	asJSON := fs.Bool("json", false, "print the result as one JSON object")
	var exceptions stringList
	fs.Var(&exceptions, "exception", "a case-insensitive glob (`PATTERN`; * matches any run, / included; ? one character)\n"+
		"for file errors that an alternative backup covers; repeat it for more")
	pos, code := a.parseFlags(fs, args)
	if code >= 0 {
		return code
	}
	if len(pos) > 1 {
		return a.usageErr(fs, "parse: want at most one FILE, got %d", len(pos))
	}
	in, name := a.stdin, "standard input"
	if len(pos) == 1 && pos[0] != "-" {
		f, err := os.Open(pos[0])
		if err != nil {
			fmt.Fprintf(a.stderr, "backupreport: parse: %v\n", err)
			return exitUsage
		}
		defer f.Close()
		in, name = f, pos[0]
	}
	var res *parser.Result
	var err error
	if data, unmap := mapFileOf(in); data != nil {
		res, err = parseMapped(data, unmap)
	} else {
		res, err = parser.Parse(ctxReader{ctx: ctx, r: in})
	}
	// A file or a pipe read to its end is a whole upload; a read error is
	// reported below, with the verdict of what was read.
	parser.Judge(res, parser.Facts{End: parser.EndComplete}, exceptions)
	if *asJSON {
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		if werr := enc.Encode(res); werr != nil {
			return a.fail("parse: write: %v", werr)
		}
	} else {
		printVerdict(a.stdout, res)
	}
	if err != nil {
		fmt.Fprintf(a.stderr, "backupreport: parse %s: %v\n", name, err)
		return exitUsage
	}
	if res.Status != parser.StatusOK {
		return exitFailure
	}
	return exitOK
}

// mapFileOf maps in when it is a regular file (see mapFile).
func mapFileOf(in io.Reader) ([]byte, func()) {
	if f, ok := in.(*os.File); ok {
		return mapFile(f)
	}
	return nil, nil
}

// parseMapped parses a mapped file in place (parser.ParseBytes gives what
// parser.Parse gives). A file that shrinks while it is parsed makes reading
// its mapped pages fault: that becomes a read error, as a failing read is
// on the stream path, instead of a crash. A regular file always ends, so
// this path does not watch for Ctrl-C, which only a pipe needs.
func parseMapped(data []byte, unmap func()) (res *parser.Result, err error) {
	defer unmap()
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			res, err = &parser.Result{FileErrors: []parser.FileError{}}, fmt.Errorf("read rsync output: %v", r)
		}
	}()
	return parser.ParseBytes(data), nil
}

// ctxReader stops reading once ctx is done, so Ctrl-C ends a parse of a
// pipe that never closes.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(b []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(b)
}

// printVerdict writes the result for a person to read.
func printVerdict(w io.Writer, r *parser.Result) {
	info := parser.LookupCode(r.Code)
	status := "OK"
	if r.Status != parser.StatusOK {
		status = "FAILED"
	}
	fmt.Fprintf(w, "Verdict:  %s\n", status)
	fmt.Fprintf(w, "Code:     %d (%s)\n", r.Code, info.Name)
	fmt.Fprintf(w, "Meaning:  %s\n", info.Meaning)
	fmt.Fprintf(w, "To do:    %s\n", info.Action)
	if r.Code == 23 {
		if r.Status == parser.StatusOK {
			fmt.Fprintln(w, "          Every file error is covered by an exception or is a vanished file.")
		} else if !hasRealFileError(r) {
			fmt.Fprintln(w, "          No file error other than vanished files was recognised: read the report for the cause.")
		}
	}
	complete := "no"
	if r.Complete {
		complete = "yes"
	}
	fmt.Fprintf(w, "Complete: %s\n", complete)
	if r.RsyncVersion != "" || r.Role != "" {
		fmt.Fprintf(w, "rsync:    %s (code from the %s)\n", r.RsyncVersion, r.Role)
	}
	if r.Complete || r.SentBytes != 0 || r.TotalSize != 0 {
		dry := ""
		if r.DryRun {
			dry = " (dry run)"
		}
		fmt.Fprintf(w, "Numbers:  sent %d bytes, received %d bytes, %.2f bytes/sec; total size %d, speedup %.2f%s\n",
			r.SentBytes, r.ReceivedBytes, r.BytesPerSec, r.TotalSize, r.Speedup, dry)
	}
	fmt.Fprintf(w, "Lines:    %d (%d files listed, %d deletions)\n", r.Lines, r.FilesListed, r.Deletions)
	for _, wr := range r.Warnings {
		fmt.Fprintf(w, "Warning:  %s: %s\n", wr.Kind, wr.Message)
	}
	for _, kind := range slices.Sorted(maps.Keys(r.Noise)) {
		fmt.Fprintf(w, "Ignored:  %d %s line(s)\n", r.Noise[kind], kind)
	}
	if len(r.FileErrors) == 0 {
		fmt.Fprintln(w, "File errors: none")
		return
	}
	fmt.Fprintf(w, "File errors: %d\n", len(r.FileErrors))
	for _, fe := range r.FileErrors {
		note := ""
		switch {
		case fe.Excepted:
			note = "  [excepted by " + fe.Exception + "]"
		case fe.Kind == parser.KindVanished:
			note = "  [vanished: does not count]"
		}
		fmt.Fprintf(w, "  line %d  %s  %s%s\n", fe.Line, fe.Kind, fe.Path, note)
	}
	for _, kind := range slices.Sorted(maps.Keys(r.Dropped)) {
		fmt.Fprintf(w, "  ... and %d more %s errors not listed\n", r.Dropped[kind], kind)
	}
}

// hasRealFileError reports whether r holds a file error that is not a
// vanished file, kept or dropped.
func hasRealFileError(r *parser.Result) bool {
	for _, fe := range r.FileErrors {
		if fe.Kind != parser.KindVanished {
			return true
		}
	}
	for kind, n := range r.Dropped {
		if kind != parser.KindVanished && n > 0 {
			return true
		}
	}
	return false
}
