//go:build linux || darwin || freebsd || netbsd || openbsd

package store

import "golang.org/x/sys/unix"

// diskFree returns the bytes available to this process on dir's file
// system, or -1.
func diskFree(dir string) int64 {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return -1
	}
	return int64(st.Bavail) * int64(st.Bsize)
}
