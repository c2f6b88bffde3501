package keys

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxNameBytes is the longest customer name or report file name accepted,
// the limit of most file systems the old server could have used.
const maxNameBytes = 255

// ReportPathError is returned by ParseReportPath for a path it refuses.
type ReportPathError struct {
	Path   string // the path as given
	Reason string // why it was refused, e.g. "contains .."
}

func (e *ReportPathError) Error() string {
	p := e.Path
	if len(p) > 100 {
		p = p[:100] + "..."
	}
	return fmt.Sprintf("report path %q: %s; want /reports/<customer>/<server>.out", p, e.Reason)
}

// ParseReportPath splits the path that backup.bat writes to,
// "/reports/<customer>/<server>.out" (the leading slash may be missing), into
// its customer and server names, keeping their case: callers compare names
// case-insensitively.
//
// A name may hold any printable UTF-8 character except "/" and "\", and is
// taken as it is: nothing is trimmed or normalised. Refused with a
// *ReportPathError: other folders, "." and "..", empty names, names that
// begin or end with a space, NUL bytes and other control or non-printable
// characters, invalid UTF-8, and a customer name or file name over 255 bytes.
// ParseReportPath does not check that the customer or server exists.
//
// This is the syntax of a path, not the naming rule: a path must reach
// every server stored so far, including those named before the rule.
// names.Check, stricter, applies when an upload would register a new
// server (store.EnsureServer), and every name it accepts passes here.
func ParseReportPath(p string) (customer, server string, err error) {
	refuse := func(format string, args ...any) (string, string, error) {
		return "", "", &ReportPathError{Path: p, Reason: fmt.Sprintf(format, args...)}
	}
	if p == "" {
		return refuse("empty")
	}
	if !utf8.ValidString(p) {
		return refuse("not valid UTF-8")
	}
	for _, r := range p {
		switch {
		case r == 0:
			return refuse("contains a NUL byte")
		case unicode.IsControl(r):
			return refuse("contains the control character %U", r)
		case r == '\\':
			return refuse(`contains a backslash`)
		case !unicode.IsPrint(r):
			return refuse("contains the non-printable character %U", r)
		}
	}
	parts := strings.Split(strings.TrimPrefix(p, "/"), "/")
	for _, part := range parts {
		if part == ".." {
			return refuse("contains ..")
		}
	}
	if parts[0] != "reports" {
		return refuse("not in the reports folder")
	}
	if len(parts) != 3 {
		return refuse("has %d parts after /reports, not 2", len(parts)-1)
	}
	file := parts[2]
	if reason := checkName("customer name", parts[1]); reason != "" {
		return refuse("%s", reason)
	}
	if !strings.HasSuffix(file, ".out") {
		return refuse("file name does not end in .out")
	}
	if reason := checkName("file name", file); reason != "" {
		return refuse("%s", reason)
	}
	if reason := checkName("server name", strings.TrimSuffix(file, ".out")); reason != "" {
		return refuse("%s", reason)
	}
	return parts[1], strings.TrimSuffix(file, ".out"), nil
}

// checkName returns why name, already known to hold only printable
// characters and no "/", is refused, or "".
func checkName(what, name string) string {
	switch {
	case name == "":
		return what + " is empty"
	case name == "." || name == "..":
		return what + " is " + name
	case len(name) > maxNameBytes:
		return fmt.Sprintf("%s is %d bytes, over %d", what, len(name), maxNameBytes)
	case strings.HasPrefix(name, " ") || strings.HasSuffix(name, " "):
		return what + " begins or ends with a space"
	}
	return ""
}
