//go:build !linux

package main

import "os"

// mapFile maps nothing on this system: parse reads every file as a stream.
func mapFile(*os.File) (data []byte, unmap func()) { return nil, nil }
