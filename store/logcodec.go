package store

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
)

// logReader decompresses stored logs into one buffer it reuses: a
// re-evaluation reads thousands of them one after the other.
type logReader struct {
	gz  gzip.Reader
	buf bytes.Buffer
}

func newLogReader() *logReader { return &logReader{} }

// decode returns the text of a stored log, valid until the next call.
func (r *logReader) decode(compression string, data []byte) ([]byte, error) {
	r.buf.Reset()
	switch compression {
	case "gzip", "":
		if err := r.gz.Reset(bytes.NewReader(data)); err != nil {
			return nil, fmt.Errorf("gzip log: %w", err)
		}
		if _, err := io.Copy(&r.buf, &r.gz); err != nil {
			return nil, fmt.Errorf("gzip log: %w", err)
		}
		return r.buf.Bytes(), nil
	default:
		return nil, fmt.Errorf("log compressed with unknown %q", compression)
	}
}
