//go:build !(linux || darwin || freebsd || netbsd || openbsd)

package store

// diskFree cannot tell the free space here.
func diskFree(string) int64 { return -1 }
