package remote

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/ferry-oci/ferry/oci"
)

// ErrListLoop: a registry's tag or repository listing links back to a
// page already read.
var ErrListLoop = errors.New("the listing's pages loop")

// RequestError is a request to a registry that failed: either the registry
// answered with an error status (Status is set, Err is the oci sentinel that
// fits or nil), or no answer came (Status is 0, Err says why: a TLS,
// connection or DNS error, reachable with errors.As).
//
// It sits inside the *oci.Error that Store methods return; the CLI finds it
// with errors.As to name the registry in its hints.
type RequestError struct {
	Host    string // the registry, as in a reference: "ghcr.io", "127.0.0.1:5000"
	Method  string // "GET", "HEAD", "PUT", …
	Path    string // the URL path, without query or credentials
	Status  int    // the HTTP status; 0 when there was no answer
	Code    string // the first error code of the registry's answer ("MANIFEST_UNKNOWN"); may be ""
	Message string // its message, trimmed to one line
	Err     error

	retryAfter time.Duration // what a Retry-After header asked for; 0 without one
}

func (e *RequestError) Error() string {
	var b strings.Builder
	if e.Status == 0 {
		fmt.Fprintf(&b, "%s %s%s", e.Method, e.Host, e.Path)
		if e.Err != nil {
			b.WriteString(": ")
			b.WriteString(e.Err.Error())
		}
		return b.String()
	}
	fmt.Fprintf(&b, "%s answered %d %s to %s %s", e.Host, e.Status, http.StatusText(e.Status), e.Method, e.Path)
	switch {
	case e.Code != "" && e.Message != "":
		fmt.Fprintf(&b, " (%s: %s)", e.Code, e.Message)
	case e.Code != "":
		fmt.Fprintf(&b, " (%s)", e.Code)
	case e.Message != "":
		fmt.Fprintf(&b, " (%s)", e.Message)
	}
	return b.String()
}

func (e *RequestError) Unwrap() error { return e.Err }

// PlainHTTPError is a plain-HTTP request to a host that is not on loopback,
// refused before it was sent because WithPlainHTTP was not given.
type PlainHTTPError struct {
	Host string
}

func (e *PlainHTTPError) Error() string {
	return fmt.Sprintf("plain HTTP to %s refused: it is not a loopback address (pass --plain-http if the registry serves no TLS)", e.Host)
}

// IsUntrustedCertificate reports whether err comes from a registry whose
// certificate is signed by an authority that is not trusted: the fix is
// WithCAFile (the CLI's --ca-file). Host(err) names the registry.
func IsUntrustedCertificate(err error) bool {
	var ua x509.UnknownAuthorityError
	if errors.As(err, &ua) {
		return true
	}
	var pua *x509.UnknownAuthorityError
	if errors.As(err, &pua) {
		return true
	}
	var cv *tls.CertificateVerificationError
	if errors.As(err, &cv) {
		var ua x509.UnknownAuthorityError
		return errors.As(cv.Err, &ua)
	}
	return false
}

// Host returns the registry a failed request went to, or "" when err holds
// no *RequestError or *PlainHTTPError.
func Host(err error) string {
	var re *RequestError
	if errors.As(err, &re) {
		return re.Host
	}
	var pe *PlainHTTPError
	if errors.As(err, &pe) {
		return pe.Host
	}
	return ""
}

// maxErrorBody bounds how much of an error answer is read.
const maxErrorBody = 64 << 10

// responseError reads resp's error body (bounded) and closes it.
func responseError(host string, resp *http.Response) *RequestError {
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	e := &RequestError{Host: host, Status: resp.StatusCode}
	if resp.Request != nil {
		e.Method, e.Path = resp.Request.Method, resp.Request.URL.Path
	}
	var d struct {
		Errors []struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"errors"`
	}
	if json.Unmarshal(body, &d) == nil && len(d.Errors) > 0 {
		e.Code, e.Message = d.Errors[0].Code, oneLine(d.Errors[0].Message)
	} else if !strings.Contains(resp.Header.Get("Content-Type"), "html") {
		e.Message = oneLine(string(body))
	}
	e.Err = sentinel(e.Status, e.Code)
	e.retryAfter, _ = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	return e
}

// sentinel maps a status and a registry error code to the oci sentinel
// callers test for, or nil.
func sentinel(status int, code string) error {
	switch code {
	case "BLOB_UPLOAD_UNKNOWN":
		return nil // an upload session, not content: start another
	case "BLOB_UNKNOWN", "MANIFEST_UNKNOWN", "NAME_UNKNOWN":
		return oci.ErrNotFound
	case "UNAUTHORIZED":
		return oci.ErrUnauthorized
	case "DENIED":
		return oci.ErrDenied
	case "DIGEST_INVALID":
		return oci.ErrDigestMismatch
	case "SIZE_INVALID":
		return oci.ErrSizeMismatch
	case "UNSUPPORTED":
		return oci.ErrUnsupported
	}
	switch status {
	case http.StatusNotFound:
		return oci.ErrNotFound
	case http.StatusUnauthorized:
		return oci.ErrUnauthorized
	case http.StatusForbidden:
		return oci.ErrDenied
	case http.StatusMethodNotAllowed:
		return oci.ErrUnsupported
	}
	return nil
}

// fromTransportError turns an error of go-containerregistry's transport (a
// token exchange that failed) into a *RequestError.
func fromTransportError(host string, err error) error {
	var te *transport.Error
	if !errors.As(err, &te) {
		return err
	}
	e := &RequestError{Host: host, Status: te.StatusCode}
	if te.Request != nil {
		e.Method, e.Path = te.Request.Method, te.Request.URL.Path
		if te.Request.URL.Host != host {
			e.Path = te.Request.URL.Host + e.Path // the token server
		}
	}
	if len(te.Errors) > 0 {
		e.Code, e.Message = string(te.Errors[0].Code), oneLine(te.Errors[0].Message)
	}
	e.Err = sentinel(e.Status, e.Code)
	return e
}

// oneLine trims s to one printable line of at most 200 characters.
func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	s = strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return -1
	}, s)
	if r := []rune(s); len(r) > 200 {
		s = string(r[:200]) + "…"
	}
	return s
}

// opError wraps err as an *oci.Error of op on ref, copying the status and
// the registry's code from a *RequestError inside.
func opError(op, ref string, dg v1.Hash, err error) error {
	e := &oci.Error{Op: op, Ref: ref, Digest: dg, Err: err}
	var re *RequestError
	if errors.As(err, &re) {
		e.Status, e.Code = re.Status, re.Code
	}
	return e
}

// IsCertificateRejected reports whether err is a registry certificate that
// did not verify: signed by an unknown authority (IsUntrustedCertificate),
// or not valid for this host or at this time.
func IsCertificateRejected(err error) bool {
	var hn x509.HostnameError
	var ci x509.CertificateInvalidError
	return IsUntrustedCertificate(err) || errors.As(err, &hn) || errors.As(err, &ci)
}

// IsClientCertRequired recognises the TLS alerts of a registry that wants a
// client certificate (mutual TLS) and got none, or one it does not accept:
// the fix is WithClientCert (the CLI's --cert-file and --key-file). The TLS
// stack reports them as alert text only.
func IsClientCertRequired(err error) bool {
	s := err.Error()
	return strings.Contains(s, "tls: certificate required") || strings.Contains(s, "tls: bad certificate")
}

// IsPlainHTTPRefused reports whether err is a *PlainHTTPError.
func IsPlainHTTPRefused(err error) bool {
	var pe *PlainHTTPError
	return errors.As(err, &pe)
}
