// Package exitcode is ferry's one table of error kinds and the exit code
// each ends a command with. A package marks an error with a Kind (Mark, or
// a sentinel that wraps one, or an Is method answering for it); the command
// line asks Code. Errors nobody marked are failures (1).
package exitcode

import (
	"context"
	"errors"

	"github.com/ferry-oci/ferry/oci"
)

// Kind is a kind of error with its exit code. Kinds are compared by
// identity: errors.Is(err, exitcode.Drift).
type Kind struct {
	Code    int
	Name    string
	Meaning string // one sentence for the README and --help
}

func (k *Kind) Error() string { return k.Name }

// The kinds, in the order Table lists them.
var (
	OK          = &Kind{0, "success", "the command did what it was asked"}
	Failure     = &Kind{1, "failure", "anything else went wrong: a registry or file could not be read or written, a signature or check did not hold; the message names the input, the cause and what to do"}
	Usage       = &Kind{2, "usage", "the command line is wrong: an unknown command or flag, a missing or extra argument, a value of the wrong form, or a file a flag names (a key, a CA, a registry config) that is missing or not what the flag wants"}
	Drift       = &Kind{3, "drift", "a tag in the target already holds other content than the run would set (the promotion drift gate); nothing was written"}
	Damaged     = &Kind{4, "damaged input", "a bundle, archive or blob is not what its digests, sizes or metadata say; bring it again, do not import it"}
	Interrupted = &Kind{130, "interrupted", "stopped by Ctrl-C (SIGINT) or SIGTERM; run the same command again: it resumes where it stopped"}
)

// Table lists every kind, by code.
var Table = []*Kind{OK, Failure, Usage, Drift, Damaged, Interrupted}

// marked is an error marked with a kind; its message is the error's own.
type marked struct {
	err  error
	kind *Kind
}

func (m *marked) Error() string        { return m.err.Error() }
func (m *marked) Unwrap() error        { return m.err }
func (m *marked) Is(target error) bool { return target == m.kind }

// Mark returns err marked as kind, with err's message: errors.Is(result,
// kind) holds and errors.Is/As still find everything err wraps. Mark(nil)
// is nil.
func Mark(err error, kind *Kind) error {
	if err == nil {
		return nil
	}
	return &marked{err, kind}
}

// Of returns the kind of err: nil for nil; Interrupted when the chain holds
// it or context.Canceled; else Usage, Drift or Damaged when the chain holds
// one of them (content that does not match its digest or size,
// oci.ErrDigestMismatch and oci.ErrSizeMismatch, is damaged input too);
// else Failure.
func Of(err error) *Kind {
	switch {
	case err == nil:
		return OK
	case errors.Is(err, Interrupted), errors.Is(err, context.Canceled):
		return Interrupted
	case errors.Is(err, Usage):
		return Usage
	case errors.Is(err, Drift):
		return Drift
	case errors.Is(err, Damaged), errors.Is(err, oci.ErrDigestMismatch), errors.Is(err, oci.ErrSizeMismatch):
		return Damaged
	}
	return Failure
}

// Code is the exit code for err: Of(err).Code.
func Code(err error) int { return Of(err).Code }
