package main

import (
	"os"
	"syscall"
)

// mapFile maps a regular file read-only into memory, so that parse reads
// it in place instead of copying it through a read buffer. It returns nil
// when f is not a regular file, is empty or too large to map, or when the
// mapping fails: the caller then reads f as a stream. unmap releases the
// mapping.
func mapFile(f *os.File) (data []byte, unmap func()) {
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() || fi.Size() <= 0 || fi.Size() != int64(int(fi.Size())) {
		return nil, nil
	}
	// MAP_POPULATE maps the pages already in the page cache in one go,
	// instead of one fault per few pages.
	b, err := syscall.Mmap(int(f.Fd()), 0, int(fi.Size()), syscall.PROT_READ, syscall.MAP_PRIVATE|syscall.MAP_POPULATE)
	if err != nil {
		return nil, nil
	}
	return b, func() { syscall.Munmap(b) }
}
