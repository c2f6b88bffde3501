package keys

import (
	"errors"
	"strings"
	"testing"
)

func TestParseReportPathAccepts(t *testing.T) {
	tests := []struct {
		path, customer, server string
	}{
		{"/reports/acme/exch01.out", "acme", "exch01"},
		{"reports/acme/exch01.out", "acme", "exch01"},
		{"/reports/ACME/Exch01.out", "ACME", "Exch01"},
		{"/reports/acme corp/file srv.out", "acme corp", "file srv"},
		{"/reports/a.b-c_d/srv.2.out", "a.b-c_d", "srv.2"},
		{"/reports/Müller GmbH/Server-ä.out", "Müller GmbH", "Server-ä"},
		{"/reports/c/s.out.out", "c", "s.out"},
		{"/reports/..a/b...out", "..a", "b.."},
		{"/reports/" + strings.Repeat("c", 255) + "/" + strings.Repeat("s", 251) + ".out", strings.Repeat("c", 255), strings.Repeat("s", 251)},
	}
	for _, tt := range tests {
		t.Run(tt.path+" is accepted", func(t *testing.T) {
			customer, server, err := ParseReportPath(tt.path)
			if err != nil {
				t.Fatalf("ParseReportPath(%q): %v", tt.path, err)
			}
			if customer != tt.customer || server != tt.server {
				t.Errorf("ParseReportPath(%q) = %q, %q; want %q, %q", tt.path, customer, server, tt.customer, tt.server)
			}
		})
	}
}

func TestParseReportPathRefuses(t *testing.T) {
	tests := []struct {
		name, path, reason string
	}{
		{"an empty path", "", "empty"},
		{"a parent folder", "/reports/../etc/passwd.out", "contains .."},
		{"a parent folder as customer", "/reports/../x.out", "contains .."},
		{"a traversal after the customer", "/reports/acme/../other.out", "contains .."},
		{"a dot customer", "/reports/./x.out", "customer name is ."},
		{"a server named ..", "/reports/acme/...out", "server name is .."},
		{"a server named .", "/reports/acme/..out", "server name is ."},
		{"another folder", "/tmp/acme/x.out", "not in the reports folder"},
		{"a relative path elsewhere", "acme/x.out", "not in the reports folder"},
		{"a differently cased folder", "/Reports/acme/x.out", "not in the reports folder"},
		{"a double leading slash", "//reports/acme/x.out", "not in the reports folder"},
		{"a sub-folder", "/reports/acme/sub/x.out", "has 3 parts"},
		{"no server", "/reports/acme.out", "has 1 parts"},
		{"the bare folder", "/reports", "has 0 parts"},
		{"a trailing slash", "/reports/acme/x.out/", "has 3 parts"},
		{"an empty customer", "/reports//x.out", "customer name is empty"},
		{"an empty server", "/reports/acme/.out", "server name is empty"},
		{"another extension", "/reports/acme/x.txt", "does not end in .out"},
		{"no extension", "/reports/acme/x", "does not end in .out"},
		{"an upper-case extension", "/reports/acme/x.OUT", "does not end in .out"},
		{"a NUL byte", "/reports/acme/x\x00.out", "NUL byte"},
		{"a newline", "/reports/acme/x\n.out", "control character U+000A"},
		{"a carriage return", "/reports/acme/x.out\r", "control character U+000D"},
		{"a tab", "/reports/ac\tme/x.out", "control character U+0009"},
		{"a DEL", "/reports/acme/x\x7f.out", "control character U+007F"},
		{"a C1 control", "/reports/acme/x\u0085.out", "control character U+0085"},
		{"a backslash", `/reports/acme\..\x/y.out`, "backslash"},
		{"a zero-width space", "/reports/ac\u200bme/x.out", "non-printable character U+200B"},
		{"a no-break space", "/reports/acme\u00a0/x.out", "non-printable character U+00A0"},
		{"invalid UTF-8", "/reports/acme/\xff.out", "not valid UTF-8"},
		{"a leading space", "/reports/ acme/x.out", "customer name begins or ends with a space"},
		{"a trailing space on the server", "/reports/acme/x .out", "server name begins or ends with a space"},
		{"a customer over 255 bytes", "/reports/" + strings.Repeat("c", 256) + "/x.out", "customer name is 256 bytes, over 255"},
		{"a file name over 255 bytes", "/reports/acme/" + strings.Repeat("s", 252) + ".out", "file name is 256 bytes, over 255"},
		{"multi-byte names over 255 bytes", "/reports/" + strings.Repeat("ä", 128) + "/x.out", "customer name is 256 bytes"},
	}
	for _, tt := range tests {
		t.Run("refuses "+tt.name, func(t *testing.T) {
			customer, server, err := ParseReportPath(tt.path)
			if err == nil {
				t.Fatalf("ParseReportPath(%q) = %q, %q; want an error", tt.path, customer, server)
			}
			var pe *ReportPathError
			if !errors.As(err, &pe) {
				t.Fatalf("ParseReportPath(%q): error %T is not a *ReportPathError", tt.path, err)
			}
			if !strings.Contains(pe.Reason, tt.reason) {
				t.Errorf("ParseReportPath(%q): reason %q, want %q", tt.path, pe.Reason, tt.reason)
			}
			if !strings.Contains(err.Error(), "want /reports/<customer>/<server>.out") {
				t.Errorf("ParseReportPath(%q): error %q does not say what is wanted", tt.path, err)
			}
		})
	}
}

func TestReportPathErrorShortensLongPaths(t *testing.T) {
	_, _, err := ParseReportPath("/reports/" + strings.Repeat("x", 10000))
	if err == nil || len(err.Error()) > 300 {
		t.Errorf("got %d-byte error %.80q...", len(err.Error()), err)
	}
}
