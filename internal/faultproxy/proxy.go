package faultproxy

import (
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// Proxy is a reverse proxy on 127.0.0.1, in plain HTTP, that passes every
// request to one registry through an Injector. Clients address the registry
// as Proxy.Host; the registry sees the proxy's Host header, so the upload
// locations it hands out point back through the proxy.
type Proxy struct {
	*Injector
	// Host is "127.0.0.1:PORT", the registry part of references through the proxy.
	Host string
	// URL is "http://127.0.0.1:PORT".
	URL string

	srv  *httptest.Server
	once sync.Once
}

// NewProxy starts a proxy in front of the registry at target (a URL,
// "http://127.0.0.1:5000" or "https://…") for the rest of the test. It
// reaches the registry through transport, or a clone of
// http.DefaultTransport when transport is nil (pass
// registrytest.Registry.Client().Transport for a registry with TLS).
func NewProxy(t testing.TB, in *Injector, target string, transport http.RoundTripper) *Proxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		t.Fatalf("faultproxy: target %q is not an http(s) URL (%v)", target, err)
	}
	if transport == nil {
		transport = http.DefaultTransport.(*http.Transport).Clone()
	}
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(u)
			pr.Out.Host = pr.In.Host
		},
		Transport:     transport,
		FlushInterval: -1, // pass bytes on as they come, so cuts land mid-body
		ErrorLog:      log.New(io.Discard, "", 0),
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			w.WriteHeader(http.StatusBadGateway)
		},
	}
	p := &Proxy{Injector: in}
	p.srv = httptest.NewServer(in.Wrap(rp))
	p.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	t.Cleanup(p.Close)
	p.URL = p.srv.URL
	p.Host = strings.TrimPrefix(p.srv.URL, "http://")
	return p
}

// Close stops the proxy. It is safe to call more than once, and the test's
// cleanup calls it.
func (p *Proxy) Close() {
	p.once.Do(func() {
		p.srv.CloseClientConnections()
		p.srv.Close()
	})
}
