package main

import (
	"os/exec"
	"syscall"
)

// dieWithParent asks the kernel to stop cmd when this process dies, so a
// bench killed at a timeout leaves no serve or sshd behind holding its
// output open.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
