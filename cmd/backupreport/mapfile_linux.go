package main

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
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
	b, err := syscall.Mmap(int(f.Fd()), 0, int(fi.Size()), syscall.PROT_READ, syscall.MAP_PRIVATE)
	if err != nil {
		return nil, nil
	}
	// Mapping the pages (those in the page cache) costs about 2.5 ms per
	// 100 MB, one fault per few pages if the parser touched them first:
	// another thread does it meanwhile, ahead of the parser. A kernel
	// older than 5.14 refuses it, and the parser's reads fault them in.
	done := make(chan struct{})
	go func() {
		defer close(done)
		unix.Madvise(b, unix.MADV_POPULATE_READ)
	}()
	return b, func() {
		<-done
		syscall.Munmap(b)
	}
}
