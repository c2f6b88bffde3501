module github.com/backupreport/backupreport

go 1.26.8

require (
	github.com/chromedp/chromedp v0.23.0
	github.com/emersion/go-sasl v0.0.0-20241020182733-b788ff22d5a6
	github.com/emersion/go-smtp v0.25.1
	github.com/gliderlabs/ssh v0.3.8
	// PostgreSQL for several nodes (--database postgres://...).
	github.com/jackc/pgx/v5 v5.13.0
	// Stored logs are S2 (klauspost/compress/s2): re-evaluation
	// decompresses every log it judges.
	github.com/klauspost/compress v1.20.1
	github.com/pkg/sftp v1.13.12
	// Tests only: Prometheus's own text parser reads /metrics back
	// (store/metrics writes the format itself; client_golang's package
	// init cost every command ~1.5 ms of its start-up).
	github.com/prometheus/common v0.72.0
	// testscript: the CLI contract as scripts (cmd/backupreport/testdata/script),
	// the field's standard for testing Go command lines (soft-serve and the Go
	// command itself test this way). Used by tests only.
	github.com/rogpeppe/go-internal v1.16.0
	github.com/wneessen/go-mail v0.8.1
	// Pinned: v0.59.0 removed ssh-dss, and customers' cwRsync ssh.exe still signs
	// with DSA keys (id_dsa.txt). keys/dsa_test.go fails if an upgrade loses DSA.
	golang.org/x/crypto v0.58.0
	// unicode/norm: customer and server names are checked and stored in
	// NFC (package names). It was already in the build through x/crypto,
	// pgx and go-mail; its tables follow the standard library's
	// Unicode version (15.0.0 on Go 1.26).
	golang.org/x/text v0.43.0
	modernc.org/sqlite v1.62.0
)

require (
	github.com/anmitsu/go-shlex v0.0.0-20200514113438-38f4b401e2be // indirect
	github.com/chromedp/cdproto v0.159.0 // indirect
	github.com/dustin/go-humanize v1.1.0 // indirect
	github.com/go-json-experiment/json v0.0.0-20260213210345-44df1a37e875 // indirect
	github.com/google/uuid v1.6.0 // indirect
	github.com/kr/fs v0.1.0 // indirect
	github.com/mattn/go-isatty v0.0.24 // indirect
	github.com/munnerz/goautoneg v0.0.0-20191010083416-a7dc8b61c822 // indirect
	github.com/ncruces/go-strftime v1.1.0 // indirect
	github.com/prometheus/client_model v0.6.3 // indirect
	github.com/remyoudompheng/bigfft v0.0.0-20230129092748-24d4a6f8daec // indirect
	golang.org/x/sys v0.50.0
	golang.org/x/term v0.48.0 // indirect
	golang.org/x/tools v0.52.0 // indirect
	google.golang.org/protobuf v1.36.12 // indirect
	modernc.org/libc v1.80.1 // indirect
	modernc.org/mathutil v1.7.1 // indirect
	modernc.org/memory v1.12.1 // indirect
)

require (
	// TOTP for staff logins (report/totp.go); barcode is otp's own QR
	// encoder, used directly for its module matrix, drawn as SVG.
	github.com/boombuler/barcode v1.0.1-0.20190219062509-6c824513bacc
	github.com/pquerna/otp v1.5.0
)

require (
	github.com/jackc/pgpassfile v1.0.0 // indirect
	github.com/jackc/pgservicefile v0.0.0-20240606120523-5a60cdf6a761 // indirect
	github.com/jackc/puddle/v2 v2.2.3 // indirect
	golang.org/x/sync v0.24.0 // indirect
)
