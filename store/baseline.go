package store

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/backupreport/backupreport/parser"
)

// Baseline returns a server's normal for an upload of night: drawn from its
// last parser.BaselineWindow complete results with a log (uploads and
// demo ones; dry runs left out) of earlier nights, or nil when it has
// none. It is judged with the upload and stored with its result
// (Upload.Baseline), so that re-evaluation judges with the same one.
func (db *DB) Baseline(ctx context.Context, serverID int64, night Night) (*parser.Baseline, error) {
	if serverID == 0 {
		return nil, nil
	}
	// Newest first by the index on (server_id, received_at): the scan
	// stops after the window's count.
	rows, err := db.db.QueryContext(ctx, `SELECT total_size, sent_bytes, files_listed, deletions FROM results
		WHERE server_id = ? AND source <> ? AND complete = 1 AND dry_run = 0 AND night < ?
		ORDER BY received_at DESC, id DESC LIMIT ?`, serverID, SourceMissing, night, parser.BaselineWindow)
	if err != nil {
		return nil, fmt.Errorf("baseline of server %d: %w", serverID, mapErr(err))
	}
	defer rows.Close()
	var nights []parser.Night
	for rows.Next() {
		var n parser.Night
		if err := rows.Scan(&n.TotalSize, &n.SentBytes, &n.FilesListed, &n.Deletions); err != nil {
			return nil, fmt.Errorf("baseline of server %d: %w", serverID, err)
		}
		nights = append(nights, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("baseline of server %d: %w", serverID, mapErr(err))
	}
	slices.Reverse(nights) // oldest first
	return parser.NewBaseline(nights), nil
}

// encodeBaseline writes b for the results.baseline column: its seven
// numbers separated by spaces, or "" for none.
func encodeBaseline(b *parser.Baseline) string {
	if b == nil {
		return ""
	}
	return fmt.Sprintf("%d %d %d %d %d %d %d", b.Nights, b.TotalSize, b.SentBytes, b.FilesListed, b.Deletions, b.Changed, b.Quiet)
}

// decodeBaseline reads what encodeBaseline wrote.
func decodeBaseline(s string) (*parser.Baseline, error) {
	if s == "" {
		return nil, nil
	}
	f := strings.Fields(s)
	if len(f) != 7 {
		return nil, fmt.Errorf("baseline %q: want 7 numbers", s)
	}
	var v [7]int64
	for i := range f {
		n, err := strconv.ParseInt(f[i], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("baseline %q: %w", s, err)
		}
		v[i] = n
	}
	return &parser.Baseline{Nights: int(v[0]), TotalSize: v[1], SentBytes: v[2], FilesListed: int(v[3]), Deletions: int(v[4]), Changed: int(v[5]), Quiet: int(v[6])}, nil
}
