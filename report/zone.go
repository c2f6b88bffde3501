package report

import (
	"os"
	"path/filepath"
	"strings"
	"time"
)

// ZoneName names a time zone as staff read it: its IANA name with the
// abbreviation in force at t ("Europe/Berlin (CET)"), or for the
// machine's zone whose name Go does not know ("Local") the name found in
// TZ or /etc/localtime, else the abbreviation and offset ("CET,
// UTC+01:00"). It never says "Local".
func ZoneName(loc *time.Location, t time.Time) string {
	abbr, off := t.In(loc).Zone()
	offset := t.In(loc).Format("UTC-07:00")
	if off == 0 {
		offset = "UTC"
	}
	if abbr == "" {
		abbr = offset
	}
	name := loc.String()
	if name == "Local" {
		name = LocalZoneName()
	}
	switch {
	case name == "" && abbr == offset:
		return offset
	case name == "":
		return abbr + ", " + offset
	case name == "UTC" || name == abbr:
		return name
	case strings.HasPrefix(abbr, "+") || strings.HasPrefix(abbr, "-"):
		return name + " (" + offset + ")"
	}
	return name + " (" + abbr + ")"
}

// LocalZoneName finds the IANA name of the machine's zone: the TZ
// variable, else the target of /etc/localtime below a zoneinfo folder,
// else /etc/timezone. It returns "" when none names one.
func LocalZoneName() string {
	if tz, ok := os.LookupEnv("TZ"); ok {
		tz = strings.TrimPrefix(tz, ":")
		if tz == "" {
			return "UTC"
		}
		if !filepath.IsAbs(tz) {
			return tz
		}
	}
	if target, err := filepath.EvalSymlinks("/etc/localtime"); err == nil {
		if _, after, ok := strings.Cut(target, "/zoneinfo/"); ok {
			return strings.TrimPrefix(after, "posix/")
		}
	}
	if b, err := os.ReadFile("/etc/timezone"); err == nil {
		return strings.TrimSpace(string(b))
	}
	return ""
}
