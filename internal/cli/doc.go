// Package cli is ferry's command line: cobra commands that check flags,
// fill an options struct, call one library function and print its result.
//
// Results go to stdout as a table, YAML or JSON (-o); logs, progress and
// errors go to stderr. Errors print as "ferry: <what> <on which input>:
// <cause>" with at most one "hint:" line, and map to exit codes through the
// one table in internal/exitcode (1 failure, 2 usage, 3 drift, 4 damaged
// input, 130 interrupted). Only this package imports cobra; the progress
// line is drawn by internal/progress.
package cli
