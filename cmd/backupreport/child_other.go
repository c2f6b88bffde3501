//go:build !linux

package main

import "os/exec"

// dieWithParent is Linux only; elsewhere the child is stopped on the
// normal way out.
func dieWithParent(*exec.Cmd) {}
