package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/backupreport/backupreport/keys"
)

// The floor runs in a process of its own by default (target "floor"), as
// serve and sshd do: a server in the load generator's process shares its
// Go scheduler, and a message between the two then often needs no wake-up
// of a sleeping thread in another process, which every real server pays.
// "floor-inprocess" is that server in the bench's own process, the figure
// earlier rounds compared against.

// benchFloorChild starts this binary as the floor ("bench --floor-child
// DIR", host keys in DIR, the client's key in pubFile) and returns its
// target and a function that stops it.
func benchFloorChild(ctx context.Context, dir, pubFile string) (*benchTarget, func(), error) {
	self, err := os.Executable()
	if err != nil {
		return nil, nil, err
	}
	cmd := exec.CommandContext(ctx, self, "bench", "--floor-child", dir, "--floor-client-key", pubFile)
	cmd.Env = benchServeEnv()
	dieWithParent(cmd)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	stop := func() {
		cmd.Process.Kill()
		cmd.Wait()
	}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if s, ok := strings.CutPrefix(sc.Text(), "floor listening on "); ok {
				addr <- s
			}
		}
	}()
	select {
	case a := <-addr:
		return &benchTarget{name: "floor", addr: a, user: "backup", pid: cmd.Process.Pid, command: benchUploadCommand}, stop, nil
	case <-time.After(30 * time.Second):
		stop()
		return nil, nil, errors.New("the floor did not say where it listens within 30 s")
	}
}

// benchFloorInProcess starts the floor in this process, with host keys in
// dir.
func benchFloorInProcess(dir string, client gossh.PublicKey) (*benchTarget, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, err
	}
	hostKeys, err := keys.LoadOrCreateHostKeys(dir)
	if err != nil {
		ln.Close()
		return nil, nil, err
	}
	go benchFloor(ln, hostKeys, client)
	return &benchTarget{name: "floor-inprocess", addr: ln.Addr().String(), user: "backup", command: benchUploadCommand}, func() { ln.Close() }, nil
}

// runFloorChild is "bench --floor-child DIR": the floor alone, on
// 127.0.0.1, until killed. It prints "floor listening on ADDR".
func runFloorChild(a *app, dir, pubFile string) int {
	pub, err := os.ReadFile(pubFile)
	if err != nil {
		return a.fail("bench: floor: %v", err)
	}
	client, _, _, _, err := gossh.ParseAuthorizedKey(pub)
	if err != nil {
		return a.fail("bench: floor: %s: %v", pubFile, err)
	}
	hostKeys, err := keys.LoadOrCreateHostKeys(filepath.Clean(dir))
	if err != nil {
		return a.fail("bench: floor: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return a.fail("bench: floor: %v", err)
	}
	fmt.Fprintf(a.stdout, "floor listening on %s\n", ln.Addr())
	benchFloor(ln, hostKeys, client)
	return exitOK
}

// benchUploadCommand is the exec command of an upload to server i.
func benchUploadCommand(i int) string { return fmt.Sprintf("cat > /reports/bench/s%05d.out", i) }

// benchFloor serves SSH with x/crypto alone: it accepts key, reads the
// upload, discards it and returns exit status 0. No parsing, no store, no
// fsync: the most any server built on this SSH layer can do.
func benchFloor(ln net.Listener, hostKeys []gossh.Signer, client gossh.PublicKey) {
	want := client.Marshal()
	cfg := &gossh.ServerConfig{PublicKeyCallback: func(_ gossh.ConnMetadata, k gossh.PublicKey) (*gossh.Permissions, error) {
		if bytes.Equal(k.Marshal(), want) {
			return nil, nil
		}
		return nil, errors.New("unknown key")
	}}
	for _, k := range hostKeys {
		cfg.AddHostKey(k)
	}
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			sc, chans, reqs, err := gossh.NewServerConn(c, cfg)
			if err != nil {
				return
			}
			defer sc.Close()
			go gossh.DiscardRequests(reqs)
			for nc := range chans {
				if nc.ChannelType() != "session" {
					nc.Reject(gossh.UnknownChannelType, "session only")
					continue
				}
				ch, rq, err := nc.Accept()
				if err != nil {
					continue
				}
				go func() {
					defer ch.Close()
					for r := range rq {
						if r.Type == "exec" {
							r.Reply(true, nil)
							io.Copy(io.Discard, ch)
							ch.SendRequest("exit-status", false, gossh.Marshal(struct{ Status uint32 }{0}))
							return
						}
						r.Reply(false, nil)
					}
				}()
			}
		}()
	}
}
