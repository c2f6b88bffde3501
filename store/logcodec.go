package store

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"sync"

	"github.com/klauspost/compress/s2"
)

// Compression formats of stored logs (raw_logs.compression).
const (
	// CompressionS2 is how logs are stored: the S2 stream format
	// (klauspost/compress/s2, an extension of Snappy's). A typical 13 KB
	// log decompresses in about 3 µs, three times as fast as with zstd and
	// six times as fast as with gzip, for about a quarter more room than
	// gzip's fastest level; re-evaluation decompresses every log it judges.
	CompressionS2 = "s2"
	// CompressionGzip is how the first versions stored logs; they stay
	// readable.
	CompressionGzip = "gzip"
)

// logBlock is the S2 block size: it bounds the memory of each upload's
// encoder (two blocks) at a small cost in ratio on huge logs.
const logBlock = 256 << 10

// maxLogText caps what one stored log may decompress to: far above any
// log the server stores (see server.DefaultMaxLogBytes), it only stops a
// corrupted row from taking all memory.
const maxLogText = 1 << 30

var encoders = sync.Pool{New: func() any {
	return s2.NewWriter(nil, s2.WriterBetterCompression(), s2.WriterConcurrency(1), s2.WriterBlockSize(logBlock))
}}

// LogWriter compresses a log as it arrives, for RawLog.Data.
type LogWriter struct {
	enc *s2.Writer
}

// NewLogWriter returns a LogWriter writing the compressed log to w, in the
// format CompressionS2 names. Close must be called to finish it.
func NewLogWriter(w io.Writer) *LogWriter {
	enc := encoders.Get().(*s2.Writer)
	enc.Reset(w)
	return &LogWriter{enc: enc}
}

// Write compresses p.
func (l *LogWriter) Write(p []byte) (int, error) {
	if l.enc == nil {
		return 0, fmt.Errorf("log writer: write after close")
	}
	return l.enc.Write(p)
}

// Close finishes the compressed log and lets go of the encoder.
func (l *LogWriter) Close() error {
	if l.enc == nil {
		return nil
	}
	err := l.enc.Close()
	l.enc.Reset(nil)
	encoders.Put(l.enc)
	l.enc = nil
	return err
}

// CompressLog compresses a whole log as the SSH server stores one.
func CompressLog(text []byte) RawLog {
	var buf bytes.Buffer
	w := NewLogWriter(&buf)
	w.Write(text)
	w.Close()
	return RawLog{Data: CompressedBytes(&buf), Compression: CompressionS2, OriginalBytes: int64(len(text))}
}

// CompressedBytes returns what a LogWriter wrote to buf. An empty log
// compresses to nothing at all, and is still a log to store: its bytes are
// empty, not nil (nil means no log).
func CompressedBytes(buf *bytes.Buffer) []byte {
	if b := buf.Bytes(); b != nil {
		return b
	}
	return []byte{}
}

// Open returns the text of a stored log as a stream. A log stored in
// pieces (read by RawLogOf) is read a piece at a time.
func (l RawLog) Open() (io.ReadCloser, error) {
	switch l.Compression {
	case CompressionS2:
		if l.Chunks > 0 {
			if l.db == nil {
				return nil, fmt.Errorf("log in %d pieces not read from the database", l.Chunks)
			}
			return io.NopCloser(newS2Reader(l.db.newChunkReader(l.resultID, l.Chunks, l.Data))), nil
		}
		return io.NopCloser(newS2Reader(bytes.NewReader(l.Data))), nil
	case CompressionGzip:
		zr, err := gzip.NewReader(bytes.NewReader(l.Data))
		if err != nil {
			return nil, fmt.Errorf("gzip log: %w", err)
		}
		return zr, nil
	default:
		return nil, fmt.Errorf("log compressed with unknown %q", l.Compression)
	}
}

// newS2Reader reads an S2 stream with buffers sized to the blocks met
// (most logs are one small block), not to the largest block possible.
func newS2Reader(r io.Reader) *s2.Reader {
	return s2.NewReader(r, s2.ReaderAllocBlock(64<<10))
}

// logReader decompresses stored logs into one buffer it reuses: a
// re-evaluation reads thousands of them one after the other.
type logReader struct {
	s2  *s2.Reader
	gz  gzip.Reader
	buf bytes.Buffer
}

func newLogReader() *logReader {
	return &logReader{s2: newS2Reader(nil)}
}

// decode returns the text of a stored log, valid until the next call.
func (r *logReader) decode(compression string, data []byte) ([]byte, error) {
	switch compression {
	case CompressionS2:
		r.buf.Reset()
		r.s2.Reset(bytes.NewReader(data))
		if _, err := io.Copy(&r.buf, io.LimitReader(r.s2, maxLogText)); err != nil {
			return nil, fmt.Errorf("s2 log: %w", err)
		}
		return r.text(), nil
	case CompressionGzip:
		r.buf.Reset()
		if err := r.gz.Reset(bytes.NewReader(data)); err != nil {
			return nil, fmt.Errorf("gzip log: %w", err)
		}
		if _, err := io.Copy(&r.buf, io.LimitReader(&r.gz, maxLogText)); err != nil {
			return nil, fmt.Errorf("gzip log: %w", err)
		}
		return r.text(), nil
	default:
		return nil, fmt.Errorf("log compressed with unknown %q", compression)
	}
}

// text returns the decoded log; a rare huge log's buffer is not kept for
// the logs after it.
func (r *logReader) text() []byte {
	b := r.buf.Bytes()
	if r.buf.Cap() > 16<<20 {
		r.buf = bytes.Buffer{}
	}
	return b
}
