// Package benchmarks holds SharePanel's end-to-end benchmarks: real HTTP
// over loopback with keep-alive, the HTTP handler, the Engine and SQLite on
// disk, each measured beside a baseline in the same run. BENCHMARKS.md at
// the repository root records the results and the command.
package benchmarks
