package remote

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

const (
	// maxBackoff caps the exponential backoff between two attempts.
	maxBackoff = 30 * time.Second
	// maxRetryAfter caps the wait a registry may ask for with Retry-After.
	maxRetryAfter = time.Minute
)

// core is the bottom of the stack above the base transport: it refuses
// plain HTTP to hosts that may not have it, sets the User-Agent, logs each
// attempt and retries replayable requests that failed in a way worth
// retrying.
type core struct {
	base        http.RoundTripper
	plainHTTP   bool
	userAgent   string
	maxAttempts int
	backoff     time.Duration
	log         *slog.Logger
	listBudget  int64        // bytes a tag or repository listing may read and keep
	requests    atomic.Int64 // requests sent, every attempt counted
}

func (c *core) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme == "http" && !c.plainHTTP && !isLoopback(req.URL.Host) {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, &PlainHTTPError{Host: req.URL.Host}
	}
	replayable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	ctx := req.Context()
	for attempt := 1; ; attempt++ {
		r := req.Clone(ctx)
		if attempt > 1 && req.GetBody != nil {
			body, err := req.GetBody()
			if err != nil {
				return nil, err
			}
			r.Body = body
		}
		if r.Header.Get("User-Agent") == "" {
			r.Header.Set("User-Agent", c.userAgent)
		}
		start := time.Now()
		c.requests.Add(1)
		resp, err := c.base.RoundTrip(r)
		c.logAttempt(r, attempt, start, resp, err)
		if err == nil && replayable {
			// A small answer is read here, inside the retry loop, so that a
			// body cut short (a reset, a truncated manifest or tag list) is
			// asked for again like a failed request. Blobs of unknown or
			// larger size stream to the caller, whose copy is retried whole.
			if err = bufferSmallBody(r, resp); err != nil {
				// The body is closed. A round tripper returns an answer or an
				// error, never both: net/http would log the pair on its own,
				// outside ferry's logs.
				resp = nil
			}
		}
		if !replayable || attempt >= c.maxAttempts {
			return resp, err
		}
		wait, again := c.retryAfter(attempt, resp, err)
		if !again {
			return resp, err
		}
		if resp != nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
			resp.Body.Close()
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

// Answers read whole inside the retry loop: manifests, tag lists and
// referrers up to the size of the largest manifest ferry accepts, and blobs
// small enough to be configs or component descriptors. Larger blobs stream.
const (
	smallAnswer     = 4 << 20
	smallBlobAnswer = 64 << 10
)

// bufferSmallBody reads the body of a successful GET of known, small length
// into memory, replacing resp.Body. A read error is returned (and the body
// closed) so the caller can retry.
func bufferSmallBody(req *http.Request, resp *http.Response) error {
	limit := int64(smallAnswer)
	if strings.Contains(req.URL.Path, "/blobs/") {
		limit = smallBlobAnswer
	}
	if req.Method != http.MethodGet || resp.StatusCode >= 300 || resp.ContentLength < 0 || resp.ContentLength > limit {
		return nil
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, resp.ContentLength+1))
	resp.Body.Close()
	if err == nil && int64(len(b)) != resp.ContentLength {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		return fmt.Errorf("reading the answer to GET %s: %w", req.URL.Path, err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return nil
}

// retryAfter says whether an attempt that ended in resp or err is worth
// another, and how long to wait before it.
func (c *core) retryAfter(attempt int, resp *http.Response, err error) (time.Duration, bool) {
	if err != nil {
		if !retryableError(err) {
			return 0, false
		}
		return c.backoffFor(attempt), true
	}
	if !retryableStatus(resp.StatusCode) {
		return 0, false
	}
	if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
		return d, true
	}
	return c.backoffFor(attempt), true
}

// backoffFor returns the wait after the attempt-th attempt: the base
// doubled attempt-1 times, capped, with the upper half jittered.
func (c *core) backoffFor(attempt int) time.Duration {
	d := c.backoff
	for i := 1; i < attempt && d < maxBackoff; i++ {
		d *= 2
	}
	d = min(d, maxBackoff)
	if d <= 1 {
		return d
	}
	half := d / 2
	return half + rand.N(half+1)
}

func retryableStatus(code int) bool {
	switch code {
	case http.StatusRequestTimeout, http.StatusTooManyRequests:
		return true
	case http.StatusNotImplemented, http.StatusHTTPVersionNotSupported:
		return false
	}
	return code >= 500 && code <= 599
}

// retryableError reports whether a request that got no answer is worth
// another attempt: the connection was reset, refused or cut short, or timed
// out. Certificate and TLS errors, cancellations and refusals are final.
func retryableError(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var (
		pe *PlainHTTPError
		cv *tls.CertificateVerificationError
		rh tls.RecordHeaderError
		ua x509.UnknownAuthorityError
		hn x509.HostnameError
		ci x509.CertificateInvalidError
	)
	if errors.As(err, &pe) || errors.As(err, &cv) || errors.As(err, &rh) || errors.As(err, &ua) ||
		errors.As(err, &hn) || errors.As(err, &ci) {
		return false
	}
	if errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// parseRetryAfter reads a Retry-After header, in seconds or as an HTTP
// date, capped at maxRetryAfter.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	var d time.Duration
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0, false
		}
		if n > int64(maxRetryAfter/time.Second) {
			return maxRetryAfter, true
		}
		d = time.Duration(n) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = max(t.Sub(now), 0)
	} else {
		return 0, false
	}
	return min(d, maxRetryAfter), true
}

func (c *core) logAttempt(r *http.Request, attempt int, start time.Time, resp *http.Response, err error) {
	ctx := r.Context()
	if !c.log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	attrs := []slog.Attr{
		slog.String("method", r.Method),
		slog.String("url", redactURL(r.URL)),
		slog.Duration("duration", time.Since(start)),
	}
	if attempt > 1 {
		attrs = append(attrs, slog.Int("attempt", attempt))
	}
	if resp != nil {
		attrs = append(attrs, slog.Int("status", resp.StatusCode))
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", errorWithoutURL(err)))
	}
	c.log.LogAttrs(ctx, slog.LevelDebug, "registry request", attrs...)
}

// safeQuery are query parameters whose values may be logged: they name
// content, not credentials or upload state.
var safeQuery = map[string]bool{
	"digest": true, "mount": true, "from": true, "n": true, "last": true,
	"artifactType": true, "service": true, "scope": true,
}

// redactURL returns u without userinfo and with the values of query
// parameters that may carry secrets (upload state, signatures) replaced.
func redactURL(u *url.URL) string {
	r := *u
	r.User = nil
	r.Fragment, r.RawFragment = "", ""
	if r.RawQuery != "" {
		q := r.Query()
		for k, vs := range q {
			if !safeQuery[k] {
				for i := range vs {
					vs[i] = "REDACTED"
				}
			}
		}
		r.RawQuery = q.Encode()
	}
	return r.String()
}

// errorWithoutURL returns the text of err; a *url.Error's URL is redacted.
func errorWithoutURL(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil {
			return ue.Op + " " + redactURL(u) + ": " + ue.Err.Error()
		}
	}
	return err.Error()
}

// isLoopback reports whether host (with or without a port) is on loopback:
// 127.0.0.0/8, ::1 or localhost.
func isLoopback(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkRedirect follows at most 10 redirects and drops the Authorization
// header when one leads to another host (blob storage behind a registry).
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects")
	}
	if req.URL.Host != via[0].URL.Host {
		req.Header.Del("Authorization")
	}
	return nil
}
