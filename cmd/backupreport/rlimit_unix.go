//go:build unix

package main

import "syscall"

// raiseFileLimit raises the soft limit on open files to the hard limit and
// returns the limit in force and the one before. The Go runtime already
// does this at start on most systems; doing it here too makes it explicit
// and gives the figure the connection cap is derived from.
func raiseFileLimit() (now, before uint64, err error) {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0, 0, err
	}
	before = l.Cur
	if l.Cur < l.Max {
		l.Cur = l.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
			return before, before, err
		}
	}
	return l.Cur, before, nil
}
