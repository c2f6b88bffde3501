// Package logkey holds the keys of every log/slog line, in one place, so
// that a line about a customer says "customer" whichever package wrote it
// and a log search finds them all. It is a leaf under store: every package
// may import it (cmd, server, report, keys and store itself).
//
// A key is a constant here, never a literal at the call: the test of this
// package fails on a literal key anywhere in the tree, and with -fix
// rewrites them to these constants.
package logkey

// Who and where: the subjects of an upload, a login or a ban.
const (
	Customer           = "customer"            // a customer's slug
	Server             = "server"              // a server's name, within its customer
	RemoteAddr         = "remote_addr"         // a client's address, host:port or host
	Addr               = "addr"                // an address this process listens on
	Username           = "username"            // a member of staff
	Actor              = "actor"               // who did it: a username, or "cli"
	Fingerprint        = "fingerprint"         // a key's SHA256 fingerprint
	KeyType            = "key_type"            // a key's algorithm, e.g. ssh-ed25519
	Protocol           = "protocol"            // how an upload came: exec, scp or sftp
	ClientVersion      = "client_version"      // an SSH client's version string
	Kex                = "kex"                 // the SSH key exchange agreed
	Cipher             = "cipher"              // the SSH cipher agreed
	MAC                = "mac"                 // the SSH MAC agreed
	SignatureAlgorithm = "signature_algorithm" // the algorithm of a client's key signature
)

// What came of it: a stored result and its verdict.
const (
	Code           = "code"            // rsync's exit code as judged
	Status         = "status"          // a verdict, ok or failed
	Bytes          = "bytes"           // bytes read or stored
	Chunks         = "chunks"          // pieces of a raw log
	ResultID       = "result_id"       // a stored result
	Night          = "night"           // a night, YYYY-MM-DD
	FileErrors     = "file_errors"     // file errors that fail the night
	ExceptedErrors = "excepted_errors" // file errors an exception covers
	Exception      = "exception"       // an exception's pattern
	Interrupted    = "interrupted"     // whether the upload ended before EOF
	Logs           = "logs"            // raw logs deleted by a prune
	OriginalBytes  = "original_bytes"  // their size as received
	Transactions   = "transactions"    // the transactions a prune took
	Quota          = "quota"           // a customer's cap on stored raw logs, in bytes
	Ended          = "ended"           // how the upload ended: complete, interrupted, too_large, time_limit
	Path           = "path"            // a path: of a request, or as an upload named it
	Kind           = "kind"            // a report's kind (daily, three-day, webhook) or a warning's (size_drop...)
	Warning        = "warning"         // an early warning's message
	Node           = "node"            // a serve process: host name and PID
	To             = "to"              // what it became, or the recipients of an email
	URL            = "url"             // a webhook URL, redacted
	Results        = "results"         // results counted
	Changed        = "changed"         // results whose verdict changed
	Recorded       = "recorded"        // nights recorded as missing
	Failures       = "failures"        // failures counted
	Attempt        = "attempt"         // the number of a delivery attempt
	Final          = "final"           // whether it was the last attempt
)

// Limits and defence: what a limit was and what it did.
const (
	Limit                = "limit"                   // a limit, as it stands
	LimitBytes           = "limit_bytes"             // a byte limit
	Max                  = "max"                     // a bound, as configured
	Wait                 = "wait"                    // the wait imposed
	Waited               = "waited"                  // time waited
	Duration             = "duration"                // how long it took, or lasts
	Reason               = "reason"                  // why something was refused or banned
	Until                = "until"                   // when a ban ends, RFC 3339
	Score                = "score"                   // a source's defence score
	Level                = "level"                   // a ban's level: how often the address was banned
	Count                = "count"                   // how many
	Connections          = "connections"             // open connections
	Addresses            = "addresses"               // addresses counted
	Busiest              = "busiest"                 // the busiest source
	BusiestCount         = "busiest_count"           // its count
	SimilarSinceLastLine = "similar_since_last_line" // lines like this one left out since the last
	Scope                = "scope"                   // what a login throttle counts: a pair, an address
	Type                 = "type"                    // a host key's algorithm
	From                 = "from"                    // what it was before
	Data                 = "data"                    // the data folder
	Form                 = "form"                    // the form a login came from
	Page                 = "page"                    // a page's template
	Method               = "method"                  // an HTTP method
)

// serve's configured limits, logged once at start.
const (
	TrustedProxies       = "trusted_proxies"
	MaxStartups          = "max_startups"
	MaxStartupsPerSource = "max_startups_per_source"
	MaxConnections       = "max_connections"
	FileLimit            = "file_limit"
	LoginGraceTime       = "login_grace_time"
	MaxSessions          = "max_sessions"
	MaxOpenSessions      = "max_open_sessions"
	MaxSessionsPerKey    = "max_sessions_per_key"
	IdleTimeout          = "idle_timeout"
	MaxUploadTime        = "max_upload_time"
)

// Onboarding, second factors and forced commands.
const (
	NewCustomer   = "new_customer"   // whether onboarding created the customer
	NewServer     = "new_server"     // whether onboarding created the server
	UserID        = "user_id"        // a member of staff, by ID
	SecondFactor  = "second_factor"  // how a login's second factor was given: code or recovery code
	ForcedCommand = "forced_command" // the command a key is bound to
	ClientCommand = "client_command" // the command the client sent instead
)

// Errors.
const (
	Err = "err" // the error, last in a line
)
