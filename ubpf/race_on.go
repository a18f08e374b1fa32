//go:build race

package ubpf

// raceEnabled: built with the race detector (see count).
const raceEnabled = true
