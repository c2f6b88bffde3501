//go:build race

package main

// raceEnabled reports whether this test binary runs with the race detector;
// the end-to-end binary is then built with -race too, so that serve's
// goroutines are checked while the real clients drive it.
const raceEnabled = true
