package oci

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Sentinel errors. Stores wrap them, so callers test with errors.Is.
var (
	// ErrNotFound: the repository, tag, manifest or blob does not exist.
	ErrNotFound = errors.New("not found")
	// ErrDigestMismatch: content does not hash to the digest it was named by.
	ErrDigestMismatch = errors.New("digest mismatch")
	// ErrSizeMismatch: content is longer or shorter than its descriptor says.
	ErrSizeMismatch = errors.New("size mismatch")
	// ErrUnauthorized: the store refused the credentials, or asked for some
	// and none were configured (HTTP 401).
	ErrUnauthorized = errors.New("unauthorized")
	// ErrDenied: the credentials were accepted but do not allow the
	// operation (HTTP 403).
	ErrDenied = errors.New("denied")
	// ErrUnsupported: the store cannot do this (a read-only archive, a
	// registry without an API, an unknown media type).
	ErrUnsupported = errors.New("unsupported")
	// ErrInvalidReference: a reference could not be parsed.
	ErrInvalidReference = errors.New("invalid reference")
	// ErrTooLarge: content exceeds a limit the reader sets for itself
	// (manifests, indexes, descriptors); see MaxManifestBytes.
	ErrTooLarge = errors.New("too large")
)

// Side says which end of a copy an error happened on.
type Side string

// The sides of a copy. A Store leaves Side empty; the transfer engine sets it.
const (
	Source      Side = "source"
	Destination Side = "destination"
)

// Error is a failed store operation with the facts a caller needs to explain
// it: which side, what was being done, on which reference or digest, and the
// registry's own answer. It wraps the cause, so errors.Is finds the
// sentinels above and errors.As finds transport errors below it.
type Error struct {
	Side   Side    // Source or Destination; empty when not known
	Op     string  // "resolve", "fetch", "push", "tag", "mount", "exists", "list"
	Ref    string  // the repository or reference operated on
	Digest v1.Hash // the blob or manifest, when there is one
	Status int     // the HTTP status, when the store is a registry
	Code   string  // the registry's error code (BLOB_UNKNOWN, DENIED, ...), when given
	Err    error
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Side != "" {
		b.WriteString(string(e.Side))
		b.WriteString(": ")
	}
	b.WriteString(e.Op)
	if e.Ref != "" {
		b.WriteString(" ")
		b.WriteString(e.Ref)
	}
	if e.Digest != (v1.Hash{}) && !strings.HasSuffix(e.Ref, e.Digest.String()) {
		b.WriteString(" ")
		b.WriteString(e.Digest.String())
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// WithSide returns err with the Side of every *Error in its chain that has
// none set to s. Errors that are not *Error are wrapped in one.
func WithSide(err error, s Side, op string) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		if e.Side == "" {
			e.Side = s
		}
		return err
	}
	return &Error{Side: s, Op: op, Err: err}
}

// mismatchError reports content that is not what its descriptor promised.
type mismatchError struct {
	kind      error // ErrDigestMismatch or ErrSizeMismatch
	want, got string
}

func (e *mismatchError) Error() string {
	return fmt.Sprintf("%v: want %s, got %s", e.kind, e.want, e.got)
}

func (e *mismatchError) Unwrap() error { return e.kind }

// Temporary reports whether err is worth retrying: a registry that answered
// 408, 429 or 5xx, a connection that was reset or cut short, or a timeout.
// Authentication, authorisation, not-found and mismatch errors are final.
func Temporary(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	for _, final := range []error{ErrDigestMismatch, ErrSizeMismatch, ErrUnauthorized, ErrDenied, ErrNotFound, ErrUnsupported, ErrInvalidReference, ErrTooLarge} {
		if errors.Is(err, final) {
			return false
		}
	}
	var e *Error
	if errors.As(err, &e) && e.Status != 0 {
		return e.Status == http.StatusRequestTimeout || e.Status == http.StatusTooManyRequests || e.Status >= 500
	}
	var t interface{ Temporary() bool }
	if errors.As(err, &t) && t.Temporary() {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EPIPE) || errors.Is(err, net.ErrClosed)
}
