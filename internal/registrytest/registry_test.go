package registrytest_test

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/ferry-oci/ferry/internal/registrytest"
)

func get(t *testing.T, c *http.Client, u string, auth ...string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(auth) == 2 {
		req.SetBasicAuth(auth[0], auth[1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// pushBlob uploads data with the two-step POST/PUT upload of the distribution spec and
// returns its digest.
func pushBlob(t *testing.T, c *http.Client, base, repo string, data []byte, auth ...string) string {
	t.Helper()
	dgst := fmt.Sprintf("sha256:%x", sha256.Sum256(data))
	do := func(method, u string, body []byte) *http.Response {
		req, err := http.NewRequest(method, u, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if len(auth) == 2 {
			req.SetBasicAuth(auth[0], auth[1])
		}
		req.Header.Set("Content-Type", "application/octet-stream")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, u, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	resp := do(http.MethodPost, base+"/v2/"+repo+"/blobs/uploads/", nil)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("starting upload: status %d", resp.StatusCode)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatalf("upload location: %v", err)
	}
	u, _ := url.Parse(base)
	loc = u.ResolveReference(loc)
	q := loc.Query()
	q.Set("digest", dgst)
	loc.RawQuery = q.Encode()
	if resp := do(http.MethodPut, loc.String(), data); resp.StatusCode != http.StatusCreated {
		t.Fatalf("finishing upload: status %d", resp.StatusCode)
	}
	return dgst
}

func TestAnswersV2(t *testing.T) {
	r := registrytest.New(t)
	resp := get(t, r.Client(), r.URL+"/v2/")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /v2/: status %d", resp.StatusCode)
	}
	if v := resp.Header.Get("Docker-Distribution-API-Version"); v != "registry/2.0" {
		t.Errorf("API version header = %q", v)
	}
	if r.URL != "http://"+r.Host {
		t.Errorf("URL %q does not match Host %q", r.URL, r.Host)
	}
	if r.CAFile != "" || r.CAPool() != nil {
		t.Errorf("plain registry has CA %q", r.CAFile)
	}
}

func TestBlobRoundTrip(t *testing.T) {
	r := registrytest.New(t)
	data := []byte("hello ferry")
	dgst := pushBlob(t, r.Client(), r.URL, "acme/api", data)
	resp, err := r.Client().Get(r.URL + "/v2/acme/api/blobs/" + dgst)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(got, data) {
		t.Fatalf("GET blob: status %d, body %q", resp.StatusCode, got)
	}
}

func TestTLS(t *testing.T) {
	r := registrytest.New(t, registrytest.WithTLS())
	if r.URL != "https://"+r.Host {
		t.Fatalf("URL = %q", r.URL)
	}

	pem, err := os.ReadFile(r.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	fromFile := x509.NewCertPool()
	if !fromFile.AppendCertsFromPEM(pem) {
		t.Fatalf("CAFile %s holds no certificate", r.CAFile)
	}
	for name, pool := range map[string]*x509.CertPool{"CAPool": r.CAPool(), "CAFile": fromFile} {
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
		if resp := get(t, c, r.URL+"/v2/"); resp.StatusCode != http.StatusOK {
			t.Errorf("trusting %s: status %d", name, resp.StatusCode)
		}
		// The certificate also names localhost.
		if resp := get(t, c, "https://localhost:"+port(t, r.Host)+"/v2/"); resp.StatusCode != http.StatusOK {
			t.Errorf("trusting %s via localhost: status %d", name, resp.StatusCode)
		}
	}

	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: x509.NewCertPool()}}}
	_, err = c.Get(r.URL + "/v2/")
	var unknown x509.UnknownAuthorityError
	if !errors.As(err, &unknown) {
		t.Fatalf("client without the CA: got %v, want an unknown authority error", err)
	}
	// A second registry has its own CA, which the first one's pool does not trust.
	r2 := registrytest.New(t, registrytest.WithTLS())
	c = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: r.CAPool()}}}
	if _, err := c.Get(r2.URL + "/v2/"); !errors.As(err, &unknown) {
		t.Fatalf("other registry's CA: got %v, want an unknown authority error", err)
	}
}

func port(t *testing.T, host string) string {
	t.Helper()
	u, err := url.Parse("//" + host)
	if err != nil {
		t.Fatal(err)
	}
	return u.Port()
}

func TestAuth(t *testing.T) {
	r := registrytest.New(t, registrytest.WithAuth("alice", "s3cret"))
	resp := get(t, r.Client(), r.URL+"/v2/")
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("without credentials: status %d, want 401", resp.StatusCode)
	}
	if ch := resp.Header.Get("WWW-Authenticate"); ch == "" {
		t.Errorf("401 without a challenge")
	}
	if resp := get(t, r.Client(), r.URL+"/v2/", "alice", "wrong"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("wrong password: status %d, want 401", resp.StatusCode)
	}
	if resp := get(t, r.Client(), r.URL+"/v2/", "alice", "s3cret"); resp.StatusCode != http.StatusOK {
		t.Errorf("with credentials: status %d, want 200", resp.StatusCode)
	}
	pushBlob(t, r.Client(), r.URL, "acme/api", []byte("x"), "alice", "s3cret")
}

func TestDockerConfigFile(t *testing.T) {
	r := registrytest.New(t, registrytest.WithAuth("bob", "pa:ss"))
	b, err := os.ReadFile(r.DockerConfigFile())
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Auths map[string]struct{ Auth string } `json:"auths"`
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatalf("config.json: %v", err)
	}
	raw, err := base64.StdEncoding.DecodeString(cfg.Auths[r.Host].Auth)
	if err != nil {
		t.Fatalf("auth entry for %s: %v", r.Host, err)
	}
	user, pass, _ := bytes.Cut(raw, []byte(":"))
	// The credentials in the file open the registry.
	if resp := get(t, r.Client(), r.URL+"/v2/", string(user), string(pass)); resp.StatusCode != http.StatusOK {
		t.Fatalf("credentials from config.json: status %d", resp.StatusCode)
	}
}

func TestRequestCounting(t *testing.T) {
	r := registrytest.New(t)
	get(t, r.Client(), r.URL+"/v2/")
	get(t, r.Client(), r.URL+"/v2/acme/api/manifests/missing")
	pushBlob(t, r.Client(), r.URL, "acme/api", []byte("counted"))

	rs := r.Requests()
	if len(rs) != 4 {
		t.Fatalf("logged %d requests, want 4: %v", len(rs), rs)
	}
	if want := (registrytest.Request{Method: "GET", Path: "/v2/acme/api/manifests/missing", Status: http.StatusNotFound}); rs[1] != want {
		t.Errorf("second request = %+v, want %+v", rs[1], want)
	}
	for _, c := range []struct {
		method, prefix string
		want           int
	}{
		{"", "", 4},
		{"GET", "", 2},
		{"GET", "/v2/acme/", 1},
		{"POST", "/v2/acme/api/blobs/uploads/", 1},
		{"PUT", "/v2/acme/api/blobs/uploads/", 1},
		{"HEAD", "", 0},
	} {
		if got := rs.Count(c.method, c.prefix); got != c.want {
			t.Errorf("Count(%q, %q) = %d, want %d", c.method, c.prefix, got, c.want)
		}
	}
	if got := rs.Filter("PUT", "")[0].Status; got != http.StatusCreated {
		t.Errorf("PUT status = %d", got)
	}

	r.ResetRequests()
	if n := len(r.Requests()); n != 0 {
		t.Fatalf("after reset: %d requests", n)
	}
	get(t, r.Client(), r.URL+"/v2/")
	if n := r.Requests().Count("GET", "/v2/"); n != 1 {
		t.Fatalf("after reset and one GET: %d", n)
	}
}

func TestHandlerWrapper(t *testing.T) {
	fail := true
	r := registrytest.New(t, registrytest.WithHandlerWrapper(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			if fail && req.Method == http.MethodGet {
				fail = false
				http.Error(w, "injected", http.StatusServiceUnavailable)
				return
			}
			next.ServeHTTP(w, req)
		})
	}))
	if resp := get(t, r.Client(), r.URL+"/v2/"); resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("first GET: status %d, want the injected 503", resp.StatusCode)
	}
	if resp := get(t, r.Client(), r.URL+"/v2/"); resp.StatusCode != http.StatusOK {
		t.Fatalf("second GET: status %d", resp.StatusCode)
	}
	if rs := r.Requests(); rs.Count("GET", "/v2/") != 2 || rs[0].Status != http.StatusServiceUnavailable {
		t.Fatalf("request log %v does not show the injected failure", rs)
	}
}

func TestFilesystemSurvivesRestart(t *testing.T) {
	dir := t.TempDir() + "/storage"
	r := registrytest.New(t, registrytest.WithFilesystem(dir))
	dgst := pushBlob(t, r.Client(), r.URL, "acme/api", []byte("kept"))
	r.Close()
	if _, err := r.Client().Get(r.URL + "/v2/"); err == nil {
		t.Fatalf("closed registry still answers")
	}

	r2 := registrytest.New(t, registrytest.WithFilesystem(dir))
	req, _ := http.NewRequest(http.MethodHead, r2.URL+"/v2/acme/api/blobs/"+dgst, nil)
	resp, err := r2.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("blob after restart: status %d", resp.StatusCode)
	}
	// In-memory registries share nothing.
	r3 := registrytest.New(t)
	resp, err = r3.Client().Head(r3.URL + "/v2/acme/api/blobs/" + dgst)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("blob in a fresh in-memory registry: status %d", resp.StatusCode)
	}
}

func TestReadOnly(t *testing.T) {
	r := registrytest.New(t, registrytest.WithReadOnly())
	resp, err := r.Client().Post(r.URL+"/v2/acme/api/blobs/uploads/", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("upload to read-only registry: status %d, want 405", resp.StatusCode)
	}
	if resp := get(t, r.Client(), r.URL+"/v2/"); resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /v2/ on read-only registry: status %d", resp.StatusCode)
	}
}

func TestCloseLeavesNoGoroutines(t *testing.T) {
	r := registrytest.New(t, registrytest.WithFilesystem(t.TempDir()), registrytest.WithAuth("u", "p"))
	pushBlob(t, r.Client(), r.URL, "acme/api", []byte("x"), "u", "p")
	r.Client().CloseIdleConnections()
	r.Close()
	deadline := time.Now().Add(2 * time.Second)
	for {
		buf := make([]byte, 1<<20)
		stacks := string(buf[:runtime.Stack(buf, true)])
		if !strings.Contains(stacks, "distribution/distribution") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("distribution goroutines left after Close:\n%s", stacks)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
