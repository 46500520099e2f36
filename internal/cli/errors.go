package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/component/ocireg"
	"github.com/ferry-oci/ferry/internal/exitcode"
	"github.com/ferry-oci/ferry/internal/lockfile"
	"github.com/ferry-oci/ferry/oci"
	"github.com/ferry-oci/ferry/oci/remote"
	"github.com/ferry-oci/ferry/release"
	"github.com/ferry-oci/ferry/repository"
)

// usageErr marks an error in how ferry was called: exit code 2 (see
// internal/exitcode, the one table of exit codes).
func usageErr(err error) error { return exitcode.Mark(err, exitcode.Usage) }

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

// isUsage reports whether err is an error in how ferry was called.
func isUsage(err error) bool {
	return errors.Is(err, exitcode.Usage) || errors.Is(err, release.ErrUsage) || errors.Is(err, component.ErrInvalidConstraint) || isCobraUsage(err)
}

// isCobraUsage recognises the argument errors cobra makes itself.
func isCobraUsage(err error) bool {
	s := err.Error()
	return strings.HasPrefix(s, "unknown command") || strings.HasPrefix(s, "unknown flag") ||
		strings.HasPrefix(s, "unknown shorthand flag") || strings.Contains(s, "arg(s), received") ||
		strings.HasPrefix(s, "required flag(s)") || strings.HasPrefix(s, "if any flags in the group")
}

// hintFor picks the one hint that helps most with err.
func hintFor(err error, resumes bool) string {
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
	if h := registryHint(err); h != "" {
		return h
	}
	var nf *ocireg.NotFoundError
	switch {
	case errors.Is(err, repository.ErrNoArchive):
		return "the CTF archive does not exist; for a registry, name its host (registry.local:5000/path) or use the OCIRegistry:: prefix"
	case errors.Is(err, oci.ErrDigestMismatch), errors.Is(err, oci.ErrSizeMismatch):
		return "the content is not what its digest promises: it was damaged in storage or in transit; fetch it again from the source, and do not use the damaged copy"
	case errors.Is(err, exitcode.Interrupted) && resumes:
		return "run the same command again: it resumes where it stopped and copies nothing twice"
	case errors.Is(err, exitcode.Interrupted):
		return "run the same command again when you are ready"
	case oci.Temporary(err) && resumes:
		return fmt.Sprintf("%s or the network failed after every retry: check that it is reachable (address, port, proxy), then run the same command again; it resumes where it stopped", hostOf(err))
	case errors.Is(err, lockfile.ErrLocked):
		return "another run is writing the same path: wait for it to end, or pass --lock-timeout 10m to wait for it; a lock left by a run that was killed is released by the system"
	case oci.Temporary(err):
		return fmt.Sprintf("%s or the network failed after every retry: check that it is reachable (address, port, proxy) and try again", hostOf(err))
	case errors.As(err, &nf):
		return "check the component name and version for typos; 'ferry component get REPO//NAME' lists the versions a repository holds"
	case errors.Is(err, component.ErrSignatureInvalid):
		return "the signature does not verify with this key: check that --public-key is the signer's; if it is, the version was altered: do not carry it"
	}
	return ""
}

// registryHint is the hint for a registry that refused ferry's connection
// or credentials.
func registryHint(err error) string {
	host := hostOf(err)
	switch {
	case remote.IsCertificateRejected(err):
		return fmt.Sprintf("the certificate of %s is not signed by a trusted authority: pass --ca-file with the CA that signed it (or add the CA to the system trust store)", host)
	case remote.IsClientCertRequired(err):
		return fmt.Sprintf("%s asks for a client certificate (mutual TLS): pass --cert-file and --key-file with one it accepts", host)
	case strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		return fmt.Sprintf("%s speaks plain HTTP, not TLS: name it with http:// (https:// never falls back to plain HTTP)", host)
	case remote.IsPlainHTTPRefused(err):
		return "ferry speaks plain HTTP only to loopback addresses unless asked: pass --plain-http if this registry really has no TLS"
	case errors.Is(err, oci.ErrUnauthorized):
		return fmt.Sprintf("check the credentials for %s: run 'docker login %s', or pass --registry-config with a Docker config file that holds them", host, host)
	case errors.Is(err, oci.ErrDenied):
		return fmt.Sprintf("the credentials for %s are valid but not allowed to do this: ask for push/pull rights on the repository", host)
	}
	return ""
}

// hostOf names the registry err came from, for a hint.
func hostOf(err error) string {
	if host := remote.Host(err); host != "" {
		return host
	}
	return "the registry"
}
