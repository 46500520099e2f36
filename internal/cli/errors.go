package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/oci"
	"github.com/ferry-oci/ferry/oci/remote"
	"github.com/ferry-oci/ferry/release"
	"github.com/ferry-oci/ferry/repository"
	"github.com/ferry-oci/ferry/transfer"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
	exitDrift   = 3 // the target holds other content under a tag (transfer.ErrDrift)
)

// usageError marks an error in how ferry was called: exit code 2.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usageErr(err error) error { return &usageError{err} }

func errorf(format string, a ...any) error { return fmt.Errorf(format, a...) }

// hinted is an error that knows what the user should do about it.
type hinted struct {
	err  error
	hint string
}

func (e *hinted) Error() string { return e.err.Error() }
func (e *hinted) Unwrap() error { return e.err }

// withHint attaches a hint to err; the innermost hint wins.
func withHint(err error, format string, a ...any) error {
	if err == nil {
		return nil
	}
	return &hinted{err, fmt.Sprintf(format, a...)}
}

// report prints err the ferry way and returns the exit code.
func report(w io.Writer, err error) int {
	if err == nil {
		return exitOK
	}
	code := exitFailure
	if isUsage(err) {
		code = exitUsage
	}
	if errors.Is(err, transfer.ErrDrift) {
		code = exitDrift
	}
	msg := strings.TrimSpace(err.Error())
	if errors.Is(err, context.Canceled) {
		msg = "interrupted: " + msg
	}
	fmt.Fprintf(w, "ferry: %s\n", msg)
	if h := hintFor(err); h != "" {
		fmt.Fprintf(w, "hint: %s\n", h)
	}
	return code
}

// isUsage reports whether err is an error in how ferry was called.
func isUsage(err error) bool {
	var ue *usageError
	return errors.As(err, &ue) || errors.Is(err, release.ErrUsage) || errors.Is(err, component.ErrInvalidConstraint) || isCobraUsage(err)
}

// isCobraUsage recognises the argument errors cobra makes itself.
func isCobraUsage(err error) bool {
	s := err.Error()
	return strings.HasPrefix(s, "unknown command") || strings.HasPrefix(s, "unknown flag") ||
		strings.HasPrefix(s, "unknown shorthand flag") || strings.Contains(s, "arg(s), received") ||
		strings.HasPrefix(s, "required flag(s)") || strings.HasPrefix(s, "if any flags in the group")
}

// hintFor picks the one hint that helps most with err.
func hintFor(err error) string {
	var h *hinted
	if errors.As(err, &h) {
		return h.hint
	}
	if h := promotionHint(err); h != "" {
		return h
	}
	if isUsage(err) {
		return "run 'ferry help' or add --help to the command for its usage"
	}
	host := remote.Host(err)
	if host == "" {
		host = "the registry"
	}
	switch {
	case errors.Is(err, repository.ErrNoArchive):
		return "the CTF archive does not exist; for a registry, name its host (registry.local:5000/path) or use the OCIRegistry:: prefix"
	case remote.IsCertificateRejected(err):
		return fmt.Sprintf("the certificate of %s is not signed by a trusted authority: pass --ca-file with the CA that signed it (or add the CA to the system trust store)", host)
	case remote.IsClientCertRequired(err):
		return fmt.Sprintf("%s asks for a client certificate (mutual TLS): pass --cert-file and --key-file with one it accepts", host)
	case remote.IsPlainHTTPRefused(err):
		return "ferry speaks plain HTTP only to loopback addresses unless asked: pass --plain-http if this registry really has no TLS"
	case errors.Is(err, oci.ErrUnauthorized):
		return fmt.Sprintf("check the credentials for %s: run 'docker login %s', or pass --registry-config with a Docker config file that holds them", host, host)
	case errors.Is(err, oci.ErrDenied):
		return fmt.Sprintf("the credentials for %s are valid but not allowed to do this: ask for push/pull rights on the repository", host)
	case errors.Is(err, oci.ErrDigestMismatch), errors.Is(err, oci.ErrSizeMismatch):
		return "the content is not what its digest promises: it was damaged in storage or in transit; fetch it again from the source, and do not use the damaged copy"
	case errors.Is(err, context.Canceled):
		return "run the same command again: it resumes where it stopped and copies nothing twice"
	case oci.Temporary(err):
		return "the registry or the network failed after every retry: check that it is reachable, then run the same command again (copies resume where they stopped)"
	}
	return ""
}
