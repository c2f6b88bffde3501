package logkey

import (
	"bytes"
	"flag"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

var fix = flag.Bool("fix", false, "rewrite literal log keys in the tree to logkey constants")

const importPath = "github.com/backupreport/backupreport/store/logkey"

// keys maps each key to the name of its constant, read from logkey.go.
func keys(t *testing.T) map[string]string {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "logkey.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			v := s.(*ast.ValueSpec)
			k, _ := strconv.Unquote(v.Values[0].(*ast.BasicLit).Value)
			if prev, dup := out[k]; dup {
				t.Errorf("key %q is both %s and %s", k, prev, v.Names[0].Name)
			}
			out[k] = v.Names[0].Name
		}
	}
	return out
}

// slogArgs says where the keys are among a call's arguments when the call
// is a log/slog one: the index of the first key, or -1. Without type
// information it goes by names: a method Info, Warn, Error, Debug (and
// their Context forms), Log or With on something called log, Log, logger
// or Logger, or the same functions of package slog; slog.String and its
// kind take the key first (single is set).
func slogArgs(call *ast.CallExpr) (first int, single bool) {
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok {
		return -1, false
	}
	recv := ""
	switch x := sel.X.(type) {
	case *ast.Ident:
		recv = x.Name
	case *ast.SelectorExpr:
		recv = x.Sel.Name
	}
	switch sel.Sel.Name {
	case "String", "Int", "Int64", "Uint64", "Float64", "Bool", "Time", "Duration", "Any", "Group":
		if recv == "slog" {
			return 0, true
		}
		return -1, false
	}
	switch recv {
	case "slog", "log", "Log", "logger", "Logger":
	default:
		return -1, false
	}
	switch sel.Sel.Name {
	case "Info", "Warn", "Error", "Debug":
		return 1, false
	case "InfoContext", "WarnContext", "ErrorContext", "DebugContext":
		return 2, false
	case "Log":
		return 3, false
	case "With":
		return 0, false
	}
	return -1, false
}

func isAttr(e ast.Expr) bool {
	c, ok := e.(*ast.CallExpr)
	if !ok {
		return false
	}
	s, ok := c.Fun.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	x, ok := s.X.(*ast.Ident)
	return ok && x.Name == "slog"
}

// literalKeys returns the string literals used as log keys in f.
func literalKeys(f *ast.File) []*ast.BasicLit {
	var out []*ast.BasicLit
	ast.Inspect(f, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		first, single := slogArgs(call)
		if first < 0 {
			return true
		}
		if single {
			if len(call.Args) > 0 {
				if lit, ok := call.Args[0].(*ast.BasicLit); ok && lit.Kind == token.STRING {
					out = append(out, lit)
				}
			}
			return true
		}
		for i := first; i < len(call.Args); {
			a := call.Args[i]
			if isAttr(a) {
				i++
				continue
			}
			if lit, ok := a.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				out = append(out, lit)
			}
			i += 2
		}
		return true
	})
	return out
}

// TestNoLiteralKeys fails on a log key written as a literal anywhere in
// the tree outside tests; go test ./store/logkey -fix rewrites them to
// the constants (a key without one is reported: add it to logkey.go).
func TestNoLiteralKeys(t *testing.T) {
	names := keys(t)
	root := filepath.Join("..", "..")
	var problems []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); n == "testdata" || (strings.HasPrefix(n, ".") && path != root) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		if strings.HasPrefix(rel, filepath.Join("store", "logkey")+string(filepath.Separator)) {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, path, src, parser.ParseComments)
		if err != nil {
			return err
		}
		lits := literalKeys(f)
		if len(lits) == 0 {
			return nil
		}
		// Rewrite from the end so offsets stay valid.
		sort.Slice(lits, func(i, j int) bool { return lits[i].Pos() > lits[j].Pos() })
		out := src
		fixed := 0
		for _, lit := range lits {
			k, _ := strconv.Unquote(lit.Value)
			name, ok := names[k]
			pos := fset.Position(lit.Pos())
			if !ok {
				problems = append(problems, rel+":"+strconv.Itoa(pos.Line)+": key "+lit.Value+" has no constant in logkey.go")
				continue
			}
			problems = append(problems, rel+":"+strconv.Itoa(pos.Line)+": key "+lit.Value+": use logkey."+name)
			start, end := pos.Offset, fset.Position(lit.End()).Offset
			out = append(out[:start:start], append([]byte("logkey."+name), out[end:]...)...)
			fixed++
		}
		if !*fix || fixed == 0 {
			return nil
		}
		out = addImport(t, out, f.Name.Name == "logkey")
		formatted, err := format.Source(out)
		if err != nil {
			t.Errorf("%s: after the fix: %v", rel, err)
			return nil
		}
		return os.WriteFile(path, formatted, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(problems)
	if len(problems) > 0 && !*fix {
		t.Errorf("%d literal log keys (go test ./store/logkey -fix rewrites them):\n%s", len(problems), strings.Join(problems, "\n"))
	}
	if *fix {
		for _, p := range problems {
			if strings.Contains(p, "has no constant") {
				t.Error(p)
			}
		}
	}
}

// addImport adds the logkey import to a file's import block, if missing.
func addImport(t *testing.T, src []byte, self bool) []byte {
	t.Helper()
	q := strconv.Quote(importPath)
	if self || bytes.Contains(src, []byte(q)) {
		return src
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "", src, parser.ImportsOnly)
	if err != nil || len(f.Imports) == 0 {
		t.Fatalf("add import: %v", err)
	}
	// After the last project import, or else in a group of its own after
	// the last import.
	at, line := f.Imports[len(f.Imports)-1], "\n\n\t"+q
	for _, im := range f.Imports {
		if strings.HasPrefix(im.Path.Value, `"github.com/backupreport/`) {
			at, line = im, "\n\t"+q
		}
	}
	off := fset.Position(at.End()).Offset
	if len(f.Imports) == 1 && f.Decls[0].(*ast.GenDecl).Lparen == token.NoPos {
		// import "x" without parentheses
		start := fset.Position(f.Decls[0].Pos()).Offset
		return append(src[:start:start], append([]byte("import (\n\t"+at.Path.Value+line+"\n)"), src[off:]...)...)
	}
	return append(src[:off:off], append([]byte(line), src[off:]...)...)
}
