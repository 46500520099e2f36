package main

import (
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// countingProxy is a reverse proxy in front of the target registry that
// counts what the tools send it: request bodies (blob and manifest uploads)
// and requests. Every tool talks to the target through it, so all pay the
// same extra hop.
type countingProxy struct {
	srv      *http.Server
	addr     string
	bytes    atomic.Int64
	requests atomic.Int64

	mu        sync.Mutex
	manifests map[string]int // GET /v2/<repo>/manifests/<ref> → times asked, since reset
}

// startProxy listens on 127.0.0.1 (a free port) and forwards to target
// (host:port). The Host header is kept, so the registry's Location headers
// name the proxy and uploads come back through it.
func startProxy(target string) (*countingProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &countingProxy{addr: ln.Addr().String(), manifests: map[string]int{}}
	rp := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: target})
	rp.Transport = &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConns:        256,
		MaxIdleConnsPerHost: 256,
		IdleConnTimeout:     30 * time.Second,
		DisableCompression:  true,
	}
	rp.ErrorLog = nil
	p.srv = &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p.requests.Add(1)
			if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/manifests/") {
				p.mu.Lock()
				p.manifests[r.URL.Path]++
				p.mu.Unlock()
			}
			if r.Body != nil && r.Body != http.NoBody {
				r.Body = &countingBody{rc: r.Body, n: &p.bytes}
			}
			rp.ServeHTTP(w, r)
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go p.srv.Serve(ln)
	return p, nil
}

// reset zeroes the counters and returns what they held.
func (p *countingProxy) reset() (bytes, requests int64) {
	p.mu.Lock()
	clear(p.manifests)
	p.mu.Unlock()
	return p.bytes.Swap(0), p.requests.Swap(0)
}

// manifestGets returns how many manifests were fetched (GET) since the last
// reset, and how many of those fetches asked for a manifest already fetched.
func (p *countingProxy) manifestGets() (gets, repeats int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, n := range p.manifests {
		gets += n
		repeats += n - 1
	}
	return gets, repeats
}

func (p *countingProxy) close() error { return p.srv.Close() }

type countingBody struct {
	rc io.ReadCloser
	n  *atomic.Int64
}

func (c *countingBody) Read(b []byte) (int, error) {
	n, err := c.rc.Read(b)
	c.n.Add(int64(n))
	return n, err
}

func (c *countingBody) Close() error { return c.rc.Close() }
