package server

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/gliderlabs/ssh"

	"github.com/backupreport/backupreport/store/logkey"
)

// scpSinkTarget recognises the command a legacy scp client (scp -O, or any
// scp before OpenSSH 9) runs on the server to receive files:
// "scp -t [flags] [--] TARGET". The command is read the way ParseCommand
// reads cat's: split into words like a POSIX shell would, with '...' and
// "..." removed (libssh and libssh2, so curl's scp://, send
// scp -t '/reports/acme/x.out'), trailing blanks, CR and LF ignored, and
// anything a shell would treat specially refused (then it is not a sink
// command and ParseCommand says why). TARGET is then checked like any
// upload path.
func scpSinkTarget(raw string) (string, bool) {
	toks, err := tokenize(trimCommand(raw))
	if err != nil || len(toks) < 3 || toks[0].op || toks[0].text != "scp" {
		return "", false
	}
	sink := false
	for _, a := range toks[1 : len(toks)-1] {
		switch {
		case a.op:
			return "", false
		case a.text == "-t":
			sink = true
		case a.text == "-v", a.text == "-p", a.text == "-d", a.text == "-r", a.text == "-q", a.text == "--":
		default:
			return "", false
		}
	}
	last := toks[len(toks)-1]
	if last.op || last.text == "" {
		return "", false
	}
	return last.text, sink
}

// handleSCP speaks the sink side of the scp protocol: for each file the
// client sends "C<mode> <size> <name>\n", the bytes and a NUL; we answer
// each step with a NUL, and the last one only after the report is stored.
func (s *Server) handleSCP(sess ssh.Session, id *identity, target string) {
	br := bufio.NewReaderSize(sess, 4096)
	// A refusal goes back as scp's fatal-error message, which the client
	// prints on its stderr.
	fail := func(err error) {
		fmt.Fprintf(sess, "\x02backupreport: %v\n", err)
		s.noteRefusal(sess, err)
		sess.Exit(1)
	}
	sess.Write([]byte{0})
	alive := connAlive(sess.Context())
	stored := 0
	for {
		raw, err := br.ReadSlice('\n') // bounded by the reader's size
		if errors.Is(err, bufio.ErrBufferFull) {
			fail(refuse("scp_protocol", "scp header longer than 4096 bytes"))
			return
		}
		line := string(raw)
		if err == io.EOF && line == "" {
			break
		}
		if err != nil {
			s.log.Info("scp upload ended early", logkey.RemoteAddr, sess.RemoteAddr().String(), logkey.Err, err)
			sess.Exit(1)
			return
		}
		switch line[0] {
		case 'T': // times (scp -p): acknowledged and ignored
			sess.Write([]byte{0})
			continue
		case 'E': // end of directory
			sess.Write([]byte{0})
			continue
		case 'D':
			fail(refuse("scp_dir", "folders are not accepted; upload one file to /reports/<customer>/<server>.out"))
			return
		case 'C':
		default:
			fail(refuse("scp_protocol", "unexpected scp message %q", strings.TrimSpace(line)))
			return
		}
		size, name, err := parseSCPFile(line)
		if err != nil {
			fail(refuse("scp_protocol", "%v", err))
			return
		}
		if strings.Contains("/"+target+"/", "/../") {
			fail(refuse("path", "report path %q: contains ..; want /reports/<customer>/<server>.out", target))
			return
		}
		dest := target
		if !strings.HasSuffix(target, ".out") { // a folder: the file keeps its name
			dest = strings.TrimRight(target, "/") + "/" + name
		}
		if _, _, err := s.target(id, dest); err != nil {
			fail(err)
			return
		}
		sess.Write([]byte{0})
		body := io.LimitReader(br, size)
		var got int64
		counted := countReader{r: body, n: &got}
		receipt, err := s.upload(sess.Context(), id, dest, source{r: counted, protocol: "scp", complete: func() bool {
			if got != size {
				return false
			}
			b, err := br.ReadByte() // the NUL after the data
			if err == nil {
				return b == 0
			}
			// libssh2 (curl's scp://) sends no NUL after the last file,
			// only EOF: whole if the client is still there (see connAlive).
			return errors.Is(err, io.EOF) && alive()
		}})
		if err != nil {
			fail(err)
			return
		}
		if got != size {
			sess.Exit(1)
			return
		}
		io.WriteString(sess.Stderr(), receipt+"\n")
		sess.Write([]byte{0})
		stored++
	}
	if stored == 0 {
		s.finish(sess, refuse("scp_empty", "no file was sent"))
		return
	}
	sess.Exit(0)
}

// parseSCPFile parses "C0644 13230 stats.out\n".
func parseSCPFile(line string) (size int64, name string, err error) {
	f := strings.SplitN(strings.TrimRight(line[1:], "\n"), " ", 3)
	if len(f) != 3 {
		return 0, "", fmt.Errorf("malformed scp file header %q", strings.TrimSpace(line))
	}
	size, err = strconv.ParseInt(f[1], 10, 64)
	if err != nil || size < 0 {
		return 0, "", fmt.Errorf("malformed size in scp header %q", strings.TrimSpace(line))
	}
	name = f[2]
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\x00") {
		return 0, "", fmt.Errorf("bad file name %q", name)
	}
	return size, name, nil
}

type countReader struct {
	r io.Reader
	n *int64
}

func (c countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	*c.n += int64(n)
	return n, err
}
