package registrytest

import (
	"net/http"
	"strings"
)

// Request is one request the registry answered.
type Request struct {
	Method string // "GET", "HEAD", "PUT", …
	Path   string // URL path without the query, e.g. "/v2/acme/api/blobs/sha256:…"
	Status int    // the status code sent (200 when the handler wrote a body without one)
}

// Requests is a snapshot of the request log, oldest first.
type Requests []Request

// Filter returns the requests with this method ("" for any) whose path starts with
// pathPrefix ("" for any).
func (rs Requests) Filter(method, pathPrefix string) Requests {
	var out Requests
	for _, r := range rs {
		if (method == "" || r.Method == method) && strings.HasPrefix(r.Path, pathPrefix) {
			out = append(out, r)
		}
	}
	return out
}

// Count returns how many requests Filter(method, pathPrefix) would return.
func (rs Requests) Count(method, pathPrefix string) int { return len(rs.Filter(method, pathPrefix)) }

// Requests returns a copy of the request log: every request answered since the registry
// started or since the last ResetRequests. A request is logged when its handler returns.
func (r *Registry) Requests() Requests {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append(Requests(nil), r.reqs...)
}

// ResetRequests empties the request log.
func (r *Registry) ResetRequests() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reqs = nil
}

func (r *Registry) record(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if sw.status == 0 {
				sw.status = http.StatusOK
			}
			r.mu.Lock()
			r.reqs = append(r.reqs, Request{Method: req.Method, Path: req.URL.Path, Status: sw.status})
			r.mu.Unlock()
		}()
		next.ServeHTTP(sw, req)
	})
}

// statusWriter remembers the status code. Unwrap lets http.ResponseController reach the
// connection's Flusher and Hijacker.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
