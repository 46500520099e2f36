package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/ferry-oci/ferry/internal/exitcode"
	"github.com/ferry-oci/ferry/release"
)

// usageErr marks an error in how ferry was called: exit code 2 (see
// internal/exitcode, the one table of exit codes).
func usageErr(err error) error { return exitcode.Mark(err, exitcode.Usage) }

func errorf(format string, a ...any) error { return fmt.Errorf(format, a...) }

// resumable are the commands that copy, and resume where they stopped
// when run again.
var resumable = map[string]bool{
	"ferry transfer": true, "ferry bundle create": true, "ferry bundle import": true, "ferry artifact copy": true,
}

// report prints err the ferry way and returns the exit code. interrupted
// says the run's context was cancelled (Ctrl-C, SIGTERM), whatever error that
// surfaced as; resumes says the command resumes when run again.
func report(w io.Writer, err error, interrupted, resumes bool) int {
	if err == nil {
		return exitcode.OK.Code
	}
	if interrupted || errors.Is(err, context.Canceled) {
		err = exitcode.Mark(err, exitcode.Interrupted)
	} else if isUsage(err) {
		err = usageErr(err)
	}
	msg := strings.TrimSpace(err.Error())
	if errors.Is(err, exitcode.Interrupted) {
		msg = "interrupted: " + msg
	}
	fmt.Fprintf(w, "ferry: %s\n", msg)
	if h := hintFor(err, resumes); h != "" {
		fmt.Fprintf(w, "hint: %s\n", h)
	}
	return exitcode.Code(err)
}

// hintFor is the library's hint for err (release.Hint).
func hintFor(err error, resumes bool) string { return release.Hint(err, isUsage(err), resumes) }

// isUsage reports whether err is an error in how ferry was called.
func isUsage(err error) bool { return release.IsUsage(err) || isCobraUsage(err) }

// isCobraUsage recognises the argument errors cobra makes itself.
func isCobraUsage(err error) bool {
	s := err.Error()
	return strings.HasPrefix(s, "unknown command") || strings.HasPrefix(s, "unknown flag") ||
		strings.HasPrefix(s, "unknown shorthand flag") || strings.Contains(s, "arg(s), received") ||
		strings.HasPrefix(s, "required flag(s)") || strings.HasPrefix(s, "if any flags in the group")
}
