package remote_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/ferry-oci/ferry/internal/registrytest"
	"github.com/ferry-oci/ferry/oci"
	"github.com/ferry-oci/ferry/oci/remote"
	"github.com/ferry-oci/ferry/oci/storetest"
)

func mustRef(t testing.TB, s string) oci.Ref {
	t.Helper()
	r, err := oci.ParseRef(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// oneShot hides the type of a reader, so that nothing can replay it.
type oneShot struct{ r io.Reader }

func (o *oneShot) Read(p []byte) (int, error) { return o.r.Read(p) }

// writeDockerConfig writes a Docker config.json with these contents and
// returns its path.
func writeDockerConfig(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func authEntry(user, pass string) map[string]string {
	return map[string]string{"auth": base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))}
}

// debugLog returns a logger at debug level writing into the returned buffer.
func debugLog() (*slog.Logger, *syncBuffer) {
	var buf syncBuffer
	return slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})), &buf
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestWrongPassword(t *testing.T) {
	const user, pass, wrong = "ferry", "right-horse-battery", "Wr0ngPassw0rd-xyz"
	reg := registrytest.New(t, registrytest.WithAuth(user, pass))
	cfg := writeDockerConfig(t, map[string]any{"auths": map[string]any{reg.Host: authEntry(user, wrong)}})
	log, logs := debugLog()
	s := newStore(t, remote.WithRegistryConfig(cfg), remote.WithLogger(log))

	ctx := t.Context()
	_, err := s.Resolve(ctx, mustRef(t, reg.Host+"/auth/app:1.0"))
	if !errors.Is(err, oci.ErrUnauthorized) {
		t.Fatalf("Resolve with a wrong password: got %v, want ErrUnauthorized", err)
	}
	var oe *oci.Error
	if !errors.As(err, &oe) || oe.Status != http.StatusUnauthorized || oe.Op != "resolve" {
		t.Fatalf("error %#v: want an *oci.Error of resolve with status 401", oe)
	}
	var re *remote.RequestError
	if !errors.As(err, &re) || re.Host != reg.Host || remote.Host(err) != reg.Host {
		t.Fatalf("error %v does not name the registry %s", err, reg.Host)
	}
	if msg := err.Error(); !strings.Contains(msg, reg.Host) || !strings.Contains(msg, "401") {
		t.Errorf("message %q does not name the registry and 401", msg)
	}
	if oci.Temporary(err) {
		t.Errorf("a 401 counts as temporary")
	}
	// A push fails the same way.
	b, d := storetest.Blob(100, types.OCILayer)
	if err := s.Push(ctx, reg.Host+"/auth/app", d, bytes.NewReader(b)); !errors.Is(err, oci.ErrUnauthorized) {
		t.Fatalf("Push with a wrong password: got %v, want ErrUnauthorized", err)
	}
	// 401 is final: one attempt each.
	if n := reg.Requests().Count(http.MethodHead, "/v2/auth/app/manifests/"); n != 1 {
		t.Errorf("HEAD manifest sent %d times, want 1 (401 is not retried)", n)
	}
	for _, secret := range []string{wrong, base64.StdEncoding.EncodeToString([]byte(user + ":" + wrong))} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error message contains a secret: %s", err)
		}
		if strings.Contains(logs.String(), secret) {
			t.Errorf("debug log contains a secret:\n%s", logs)
		}
	}
	if !strings.Contains(logs.String(), "status=401") || !strings.Contains(logs.String(), "method=HEAD") {
		t.Errorf("debug log lacks the requests:\n%s", logs)
	}
	if strings.Contains(strings.ToLower(logs.String()), "authorization") {
		t.Errorf("debug log mentions the Authorization header:\n%s", logs)
	}
}

func TestDockerConfigFromEnvironment(t *testing.T) {
	reg := registrytest.New(t, registrytest.WithAuth("ferry", "env-pass"))
	t.Setenv("HOME", t.TempDir())
	t.Setenv("DOCKER_CONFIG", filepath.Dir(reg.DockerConfigFile()))
	s := newStore(t)
	img := storetest.NewImage(1, 100)
	img.Push(t.Context(), t, s, reg.Host+"/env/app")

	t.Setenv("DOCKER_CONFIG", t.TempDir()) // no config: anonymous
	s = newStore(t)
	if _, err := s.Resolve(t.Context(), mustRef(t, reg.Host+"/env/app@"+img.Desc.Digest.String())); !errors.Is(err, oci.ErrUnauthorized) {
		t.Fatalf("Resolve without credentials: got %v, want ErrUnauthorized", err)
	}
}

func TestCredentialHelper(t *testing.T) {
	reg := registrytest.New(t, registrytest.WithAuth("helper-user", "helper-pass"))
	dir := t.TempDir()
	script := "#!/bin/sh\n[ \"$1\" = get ] || exit 1\nread server\n" +
		`printf '{"ServerURL":"%s","Username":"helper-user","Secret":"helper-pass"}' "$server"` + "\n"
	if err := os.WriteFile(filepath.Join(dir, "docker-credential-ferrytest"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	cfg := writeDockerConfig(t, map[string]any{"credHelpers": map[string]string{reg.Host: "ferrytest"}})
	s := newStore(t, remote.WithRegistryConfig(cfg))
	storetest.NewImage(1, 100).Push(t.Context(), t, s, reg.Host+"/helper/app")
}

func TestUntrustedCertificate(t *testing.T) {
	reg := registrytest.New(t, registrytest.WithTLS())
	s := newStore(t)
	_, err := s.Resolve(t.Context(), mustRef(t, reg.Host+"/tls/app:1"))
	if err == nil {
		t.Fatal("Resolve against a registry with an unknown CA succeeded")
	}
	if !remote.IsUntrustedCertificate(err) {
		t.Fatalf("IsUntrustedCertificate(%v) = false", err)
	}
	var ua x509.UnknownAuthorityError
	if !errors.As(err, &ua) {
		t.Errorf("errors.As cannot reach x509.UnknownAuthorityError in %v", err)
	}
	if remote.Host(err) != reg.Host {
		t.Errorf("Host(err) = %q, want %q", remote.Host(err), reg.Host)
	}
	if remote.IsUntrustedCertificate(oci.ErrNotFound) {
		t.Error("IsUntrustedCertificate(ErrNotFound) = true")
	}

	// Skipping verification is explicit, and works.
	s = newStore(t, remote.WithInsecureSkipTLSVerify(true))
	img := storetest.NewImage(1, 10)
	img.Push(t.Context(), t, s, reg.Host+"/tls/app")
}

// offline is a base transport that records requests and never sends them.
type offline struct {
	mu   sync.Mutex
	urls []string
}

func (o *offline) RoundTrip(r *http.Request) (*http.Response, error) {
	o.mu.Lock()
	o.urls = append(o.urls, r.URL.Scheme+"://"+r.URL.Host)
	o.mu.Unlock()
	return nil, errors.New("offline: nothing is sent")
}

func (o *offline) schemes() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []string
	for _, u := range o.urls {
		s, _, _ := strings.Cut(u, ":")
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return out
}

func TestPlainHTTPOnlyToLoopback(t *testing.T) {
	tests := []struct {
		name      string
		host      string
		plainHTTP bool
		schemes   []string // that reached the base transport
		refused   bool     // a *PlainHTTPError in the chain
	}{
		{"public host", "registry.example.invalid", false, []string{"https"}, false},
		{"RFC 1918 host", "192.168.0.1:5000", false, []string{"https"}, true},
		{"public host with plain HTTP", "registry.example.invalid", true, []string{"http", "https"}, false},
		{"RFC 1918 host with plain HTTP", "10.1.2.3:5000", true, []string{"http", "https"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			base := &offline{}
			s := newStore(t, remote.WithTransport(base), remote.WithPlainHTTP(tc.plainHTTP))
			_, err := s.Resolve(t.Context(), mustRef(t, tc.host+"/x/y:1"))
			if err == nil {
				t.Fatal("Resolve succeeded over a transport that sends nothing")
			}
			if got := base.schemes(); !slices.Equal(got, tc.schemes) {
				t.Errorf("schemes sent = %v, want %v", got, tc.schemes)
			}
			var pe *remote.PlainHTTPError
			if errors.As(err, &pe) != tc.refused {
				t.Errorf("PlainHTTPError in %v: %v, want %v", err, !tc.refused, tc.refused)
			}
			if tc.refused && !strings.Contains(err.Error(), "--plain-http") {
				t.Errorf("message %q does not say to pass --plain-http", err)
			}
		})
	}
}

func TestRedirectToPlainHTTPHostRefused(t *testing.T) {
	reg := registrytest.New(t, registrytest.WithHandlerWrapper(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/blobs/sha256:") {
				http.Redirect(w, r, "http://registry.example.invalid/storage/blob", http.StatusTemporaryRedirect)
				return
			}
			next.ServeHTTP(w, r)
		})
	}))
	s := newStore(t)
	b, d := storetest.Blob(100, types.OCILayer)
	if err := s.Push(t.Context(), reg.Host+"/redir/app", d, bytes.NewReader(b)); err != nil {
		t.Fatal(err)
	}
	_, err := s.Fetch(t.Context(), reg.Host+"/redir/app", d)
	var pe *remote.PlainHTTPError
	if !errors.As(err, &pe) || pe.Host != "registry.example.invalid" {
		t.Fatalf("Fetch redirected to a plain-HTTP public host: got %v, want a PlainHTTPError", err)
	}
}

func TestRedirectToOtherHostDropsAuthorization(t *testing.T) {
	var gotAuth atomic.Value
	content, d := storetest.Blob(5000, types.OCILayer)
	storage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth.Store(r.Header.Get("Authorization"))
		_, _ = w.Write(content)
	}))
	t.Cleanup(storage.Close)
	reg := registrytest.New(t, registrytest.WithAuth("ferry", "pw"), registrytest.WithHandlerWrapper(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/blobs/"+d.Digest.String()) && r.Header.Get("Authorization") != "" {
				// Same IP, another port: another host all the same.
				http.Redirect(w, r, storage.URL+"/blob", http.StatusTemporaryRedirect)
				return
			}
			next.ServeHTTP(w, r)
		})
	}))
	s := newStore(t, remote.WithRegistryConfig(reg.DockerConfigFile()))
	if err := s.Push(t.Context(), reg.Host+"/redir/app", d, bytes.NewReader(content)); err != nil {
		t.Fatal(err)
	}
	rc, err := s.Fetch(t.Context(), reg.Host+"/redir/app", d)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	got, err := io.ReadAll(rc)
	if err != nil || !bytes.Equal(got, content) {
		t.Fatalf("redirected fetch = %d bytes, %v", len(got), err)
	}
	if a, ok := gotAuth.Load().(string); !ok || a != "" {
		t.Fatalf("blob storage on another host received Authorization %q", a)
	}
}

// failFirst answers the first n requests that match with status (and
// Retry-After when retryAfter is set), reading their bodies first.
func failFirst(n int, status int, retryAfter string, match func(*http.Request) bool) registrytest.Option {
	var mu sync.Mutex
	left := n
	return registrytest.WithHandlerWrapper(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			fail := match(r) && left > 0
			if fail {
				left--
			}
			mu.Unlock()
			if fail {
				_, _ = io.Copy(io.Discard, r.Body)
				if retryAfter != "" {
					w.Header().Set("Retry-After", retryAfter)
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(status)
				fmt.Fprintf(w, `{"errors":[{"code":"UNAVAILABLE","message":"try later"}]}`)
				return
			}
			next.ServeHTTP(w, r)
		})
	})
}

func TestRetryOn503(t *testing.T) {
	reg := registrytest.New(t, failFirst(2, http.StatusServiceUnavailable, "", func(r *http.Request) bool {
		return r.Method == http.MethodHead && strings.Contains(r.URL.Path, "/manifests/")
	}))
	s := newStore(t)
	img := storetest.NewImage(1, 10)
	img.Push(t.Context(), t, s, reg.Host+"/retry/app")
	if err := s.Tag(t.Context(), mustRef(t, reg.Host+"/retry/app:v1"), img.Desc); err != nil {
		t.Fatal(err)
	}
	reg.ResetRequests()
	d, err := s.Resolve(t.Context(), mustRef(t, reg.Host+"/retry/app:v1"))
	if err != nil {
		t.Fatalf("Resolve with two 503s before success: %v", err)
	}
	if d.Digest != img.Desc.Digest {
		t.Fatalf("resolved %s, want %s", d.Digest, img.Desc.Digest)
	}
	heads := reg.Requests().Filter(http.MethodHead, "/v2/retry/app/manifests/")
	if len(heads) != 3 || heads[0].Status != 503 || heads[1].Status != 503 || heads[2].Status != 200 {
		t.Fatalf("HEAD attempts = %v, want 503, 503, 200", heads)
	}
}

func TestRetryExhausted(t *testing.T) {
	reg := registrytest.New(t, failFirst(100, http.StatusBadGateway, "", func(r *http.Request) bool {
		return r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/blobs/")
	}))
	s := newStore(t) // 3 attempts
	b, d := storetest.Blob(10, types.OCILayer)
	if err := s.Push(t.Context(), reg.Host+"/retry/app", d, bytes.NewReader(b)); err != nil {
		t.Fatal(err)
	}
	_, err := s.Fetch(t.Context(), reg.Host+"/retry/app", d)
	var oe *oci.Error
	if !errors.As(err, &oe) || oe.Status != http.StatusBadGateway || oe.Code != "UNAVAILABLE" || !oci.Temporary(err) {
		t.Fatalf("Fetch after 3 x 502: got %v, want a temporary *oci.Error with status 502 and code UNAVAILABLE", err)
	}
	if n := reg.Requests().Count(http.MethodGet, "/v2/retry/app/blobs/"); n != 3 {
		t.Fatalf("GET sent %d times, want 3", n)
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	reg := registrytest.New(t, failFirst(1, http.StatusTooManyRequests, "1", func(r *http.Request) bool {
		return r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/blobs/")
	}))
	s := newStore(t)
	b, d := storetest.Blob(10, types.OCILayer)
	if err := s.Push(t.Context(), reg.Host+"/slow/app", d, bytes.NewReader(b)); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	rc, err := s.Fetch(t.Context(), reg.Host+"/slow/app", d)
	if err != nil {
		t.Fatalf("Fetch after a 429: %v", err)
	}
	rc.Close()
	waited := time.Since(start)
	if waited < 950*time.Millisecond || waited > 5*time.Second {
		t.Fatalf("waited %s after Retry-After: 1, want about a second", waited)
	}
	if n := reg.Requests().Count(http.MethodGet, "/v2/slow/app/blobs/"); n != 2 {
		t.Fatalf("GET sent %d times, want 2", n)
	}
}

func TestStreamedPushIsNotReplayed(t *testing.T) {
	isPut := func(r *http.Request) bool {
		return r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/blobs/uploads/")
	}
	reg := registrytest.New(t, failFirst(1, http.StatusServiceUnavailable, "", isPut))
	s := newStore(t)
	ctx := t.Context()
	r := reg.Host + "/stream/app"

	big, bd := storetest.Blob(3<<20, types.OCILayer)
	err := s.Push(ctx, r, bd, &oneShot{bytes.NewReader(big)})
	if !oci.Temporary(err) {
		t.Fatalf("streamed Push answered 503: got %v, want an error oci.Temporary accepts", err)
	}
	var oe *oci.Error
	if !errors.As(err, &oe) || oe.Status != http.StatusServiceUnavailable {
		t.Fatalf("error %v has no status 503", err)
	}
	if n := reg.Requests().Count(http.MethodPut, "/v2/stream/app/blobs/uploads/"); n != 1 {
		t.Fatalf("a one-shot body was sent %d times", n)
	}
	if n := reg.Requests().Count(http.MethodDelete, "/v2/stream/app/blobs/uploads/"); n != 1 {
		t.Errorf("the failed upload was cancelled %d times, want 1", n)
	}
	// The caller re-runs the copy with a fresh reader.
	if err := s.Push(ctx, r, bd, &oneShot{bytes.NewReader(big)}); err != nil {
		t.Fatalf("second Push: %v", err)
	}

	// A small blob is replayable: the same failure is retried underneath.
	reg2 := registrytest.New(t, failFirst(2, http.StatusServiceUnavailable, "", isPut))
	small, sd := storetest.Blob(1000, types.OCILayer)
	if err := s.Push(ctx, reg2.Host+"/stream/app", sd, &oneShot{bytes.NewReader(small)}); err != nil {
		t.Fatalf("Push of a small blob with two 503s: %v", err)
	}
	if n := reg2.Requests().Count(http.MethodPut, "/v2/stream/app/blobs/uploads/"); n != 3 {
		t.Fatalf("small blob PUT sent %d times, want 3", n)
	}
}

func TestStreamedPushRejectsBadContent(t *testing.T) {
	reg := registrytest.New(t)
	s := newStore(t)
	ctx := t.Context()
	r := reg.Host + "/stream/bad"
	b, d := storetest.Blob(2<<20+3, types.OCILayer)
	flipped := bytes.Clone(b)
	flipped[len(flipped)-1] ^= 0xff
	tests := []struct {
		name    string
		content []byte
		want    error
	}{
		{"last byte flipped", flipped, oci.ErrDigestMismatch},
		{"truncated", b[:len(b)-100], oci.ErrSizeMismatch},
		// The first d.Size bytes are the right content: only holding the
		// last bytes back keeps the registry from committing them.
		{"extra bytes", append(bytes.Clone(b), "tail"...), oci.ErrSizeMismatch},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reg.ResetRequests()
			err := s.Push(ctx, r, d, &oneShot{bytes.NewReader(tc.content)})
			if !errors.Is(err, tc.want) {
				t.Fatalf("Push: got %v, want %v", err, tc.want)
			}
			if oci.Temporary(err) {
				t.Errorf("a mismatch counts as temporary: %v", err)
			}
			for _, q := range reg.Requests().Filter(http.MethodPut, "") {
				if q.Status/100 == 2 {
					t.Errorf("registry accepted %s %s", q.Method, q.Path)
				}
			}
			for _, dd := range []v1.Descriptor{d, oci.DescriptorOf(types.OCILayer, tc.content)} {
				if ok, err := s.Exists(ctx, r, dd); err != nil || ok {
					t.Errorf("after a rejected push Exists(%s) = %v, %v", dd.Digest, ok, err)
				}
			}
		})
	}
	// And the right content streams through.
	if err := s.Push(ctx, r, d, &oneShot{bytes.NewReader(b)}); err != nil {
		t.Fatalf("Push of the right content: %v", err)
	}
}

func TestPushSkipsExistingBlob(t *testing.T) {
	reg := registrytest.New(t)
	s := newStore(t)
	b, d := storetest.Blob(2000, types.OCILayer)
	for range 2 {
		if err := s.Push(t.Context(), reg.Host+"/skip/app", d, bytes.NewReader(b)); err != nil {
			t.Fatal(err)
		}
	}
	if n := reg.Requests().Count(http.MethodPost, "/v2/skip/app/blobs/uploads/"); n != 1 {
		t.Fatalf("%d uploads started for one blob pushed twice, want 1", n)
	}
}

func TestTagReusesPushedManifest(t *testing.T) {
	reg := registrytest.New(t)
	s := newStore(t)
	ctx := t.Context()
	r := reg.Host + "/cache/app"
	img := storetest.NewImage(1, 10)
	img.Push(ctx, t, s, r)
	reg.ResetRequests()
	if err := s.Tag(ctx, mustRef(t, r+":v1"), img.Desc); err != nil {
		t.Fatal(err)
	}
	if n := reg.Requests().Count(http.MethodGet, "/v2/cache/app/manifests/"); n != 0 {
		t.Errorf("Tag of a manifest just pushed fetched it %d times", n)
	}
	// A Store that has not seen the manifest fetches it once.
	fresh := newStore(t)
	reg.ResetRequests()
	if err := fresh.Tag(ctx, mustRef(t, r+":v2"), img.Desc); err != nil {
		t.Fatal(err)
	}
	if n := reg.Requests().Count(http.MethodGet, "/v2/cache/app/manifests/"); n != 1 {
		t.Errorf("Tag by a fresh Store fetched the manifest %d times, want 1", n)
	}
	for _, tag := range []string{"v1", "v2"} {
		d, err := fresh.Resolve(ctx, mustRef(t, r+":"+tag))
		if err != nil || d.Digest != img.Desc.Digest || d.MediaType != img.Desc.MediaType || d.Size != img.Desc.Size {
			t.Fatalf("Resolve %s = %v, %v", tag, d, err)
		}
	}
}

func TestMountThatDoesNotHappen(t *testing.T) {
	reg := registrytest.New(t)
	s := newStore(t)
	_, d := storetest.Blob(10, types.OCILayer)
	err := s.Mount(t.Context(), reg.Host+"/mount/from", reg.Host+"/mount/to", d)
	if !errors.Is(err, oci.ErrNotFound) {
		t.Fatalf("Mount of a missing blob: got %v, want ErrNotFound", err)
	}
	if n := reg.Requests().Count(http.MethodDelete, "/v2/mount/to/blobs/uploads/"); n != 1 {
		t.Errorf("the upload session the registry opened was cancelled %d times, want 1", n)
	}
	err = s.Mount(t.Context(), "other.example.invalid/mount/from", reg.Host+"/mount/to", d)
	if !errors.Is(err, oci.ErrNotFound) {
		t.Fatalf("Mount across registries: got %v, want ErrNotFound", err)
	}
}

func TestListingsPaginate(t *testing.T) {
	remote.SetPageSize(t, 2)
	reg := registrytest.New(t)
	s := newStore(t)
	ctx := t.Context()
	var want []string
	for _, name := range []string{"list/a", "list/b", "list/c", "list/d", "list/e"} {
		img := storetest.NewImage(1, 10)
		img.Push(ctx, t, s, reg.Host+"/"+name)
		want = append(want, reg.Host+"/"+name)
		if name == "list/a" {
			for i := range 5 {
				if err := s.Tag(ctx, mustRef(t, fmt.Sprintf("%s/%s:t%d", reg.Host, name, i)), img.Desc); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	repos, err := s.Lister(reg.Host).Repositories(ctx)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(repos)
	if !slices.Equal(repos, want) {
		t.Fatalf("Catalog = %v, want %v", repos, want)
	}
	tags, err := s.Tags(ctx, reg.Host+"/list/a")
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(tags)
	if !slices.Equal(tags, []string{"t0", "t1", "t2", "t3", "t4"}) {
		t.Fatalf("Tags = %v", tags)
	}
	if n := reg.Requests().Count(http.MethodGet, "/v2/list/a/tags/list"); n != 3 {
		t.Errorf("%d pages of tags, want 3", n)
	}
}

func TestReferrers(t *testing.T) {
	reg := registrytest.New(t)
	s := newStore(t)
	ctx := t.Context()
	r := reg.Host + "/ref/app"
	subject := storetest.NewImage(1, 10)
	subject.Push(ctx, t, s, r)

	none, err := s.Referrers(ctx, r, subject.Desc.Digest, "")
	if err != nil || len(none) != 0 {
		t.Fatalf("Referrers of a manifest without any = %v, %v", none, err)
	}

	// A signature-like artifact that refers to the subject, listed under
	// the referrers tag as clients of registries without the API do.
	const sigType = "application/vnd.ferry.test.signature"
	empty := []byte("{}")
	ed := oci.DescriptorOf(oci.MediaTypeOCIEmptyConfig, empty)
	layer, ld := storetest.Blob(50, "application/octet-stream")
	for _, c := range []struct {
		b []byte
		d v1.Descriptor
	}{{empty, ed}, {layer, ld}} {
		if err := s.Push(ctx, r, c.d, bytes.NewReader(c.b)); err != nil {
			t.Fatal(err)
		}
	}
	subj := subject.Desc
	art, _ := json.Marshal(v1.Manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1, ArtifactType: sigType,
		Config: ed, Layers: []v1.Descriptor{ld}, Subject: &subj})
	ad := oci.DescriptorOf(types.OCIManifestSchema1, art)
	if err := s.Push(ctx, r, ad, bytes.NewReader(art)); err != nil {
		t.Fatal(err)
	}
	ad.ArtifactType = sigType
	idx, _ := json.Marshal(v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: []v1.Descriptor{ad}})
	id := oci.DescriptorOf(types.OCIImageIndex, idx)
	if err := s.Push(ctx, r, id, bytes.NewReader(idx)); err != nil {
		t.Fatal(err)
	}
	if err := s.Tag(ctx, mustRef(t, r+":"+remote.ReferrersTag(subject.Desc.Digest)), id); err != nil {
		t.Fatal(err)
	}

	got, err := s.Referrers(ctx, r, subject.Desc.Digest, "")
	if err != nil || len(got) != 1 || got[0].Digest != ad.Digest || got[0].ArtifactType != sigType {
		t.Fatalf("Referrers (tag schema) = %v, %v; want the signature", got, err)
	}
	if got, err := s.Referrers(ctx, r, subject.Desc.Digest, "application/vnd.other"); err != nil || len(got) != 0 {
		t.Fatalf("Referrers of another type = %v, %v; want none", got, err)
	}
}

func TestReferrersAPI(t *testing.T) {
	_, d1 := storetest.Blob(10, types.OCIManifestSchema1)
	_, d2 := storetest.Blob(10, types.OCIManifestSchema1)
	d1.ArtifactType, d2.ArtifactType = "application/vnd.a", "application/vnd.b"
	var queries []string
	var mu sync.Mutex
	reg := registrytest.New(t, registrytest.WithHandlerWrapper(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !strings.Contains(r.URL.Path, "/referrers/") {
				next.ServeHTTP(w, r)
				return
			}
			mu.Lock()
			queries = append(queries, r.URL.RawQuery)
			mu.Unlock()
			page := []v1.Descriptor{d1}
			if r.URL.Query().Get("page") == "2" {
				page = []v1.Descriptor{d2}
			} else {
				w.Header().Set("Link", `<`+r.URL.Path+`?page=2>; rel="next"`)
			}
			w.Header().Set("Content-Type", oci.MediaTypeOCIIndex)
			_ = json.NewEncoder(w).Encode(v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: page})
		})
	}))
	s := newStore(t)
	subject := oci.Digest([]byte("subject"))
	got, err := s.Referrers(t.Context(), reg.Host+"/ref/api", subject, "")
	if err != nil || len(got) != 2 || got[0].Digest != d1.Digest || got[1].Digest != d2.Digest {
		t.Fatalf("Referrers over two pages = %v, %v", got, err)
	}
	// The filter is sent, and applied when the registry did not.
	got, err = s.Referrers(t.Context(), reg.Host+"/ref/api", subject, "application/vnd.b")
	if err != nil || len(got) != 1 || got[0].Digest != d2.Digest {
		t.Fatalf("Referrers of type b = %v, %v", got, err)
	}
	if !slices.Contains(queries, "artifactType=application%2Fvnd.b") {
		t.Errorf("queries %q lack the artifactType filter", queries)
	}
	if n := reg.Requests().Count(http.MethodGet, "/v2/ref/api/manifests/"); n != 0 {
		t.Errorf("fell back to the referrers tag %d times although the API answered", n)
	}
}

// TestReferrersAPIProbedOnce asks a registry without the referrers API
// (distribution) for the referrers of many manifests at once: one request
// learns that it has none, and the others wait for that answer.
func TestReferrersAPIProbedOnce(t *testing.T) {
	reg := registrytest.New(t)
	s := newStore(t)
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			ds, api, err := s.ReferrersAPI(t.Context(), reg.Host+"/ref/none", oci.Digest([]byte{byte(i)}), "")
			if err != nil || api || len(ds) != 0 {
				t.Errorf("ReferrersAPI = %v, %v, %v; want none, no API", ds, api, err)
			}
		})
	}
	wg.Wait()
	if n := reg.Requests().Count(http.MethodGet, "/v2/ref/none/referrers/"); n != 1 {
		t.Errorf("sent %d referrers requests, want 1", n)
	}
}

func TestUserAgent(t *testing.T) {
	var agents sync.Map
	reg := registrytest.New(t, registrytest.WithHandlerWrapper(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			agents.Store(r.UserAgent(), true)
			next.ServeHTTP(w, r)
		})
	}))
	s := newStore(t, remote.WithUserAgent("ferry/1.2.3"))
	if _, err := s.Exists(t.Context(), reg.Host+"/ua/app", oci.DescriptorOf(types.OCILayer, nil)); err != nil {
		t.Fatal(err)
	}
	agents.Range(func(k, _ any) bool {
		if k != "ferry/1.2.3" {
			t.Errorf("a request carried User-Agent %q", k)
		}
		return true
	})
}

func TestCancelledFetchStream(t *testing.T) {
	reg := registrytest.New(t)
	s := newStore(t)
	b, d := storetest.Blob(4<<20, types.OCILayer)
	r := reg.Host + "/cancel/app"
	if err := s.Push(t.Context(), r, d, bytes.NewReader(b)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	rc, err := s.Fetch(ctx, r, d)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if _, err := io.ReadFull(rc, make([]byte, 1000)); err != nil {
		t.Fatal(err)
	}
	cancel()
	_, err = io.Copy(io.Discard, rc)
	var oe *oci.Error
	if !errors.Is(err, context.Canceled) || !errors.As(err, &oe) || oe.Op != "fetch" {
		t.Fatalf("reading after cancel: got %v, want an *oci.Error of fetch wrapping context.Canceled", err)
	}
}

func TestOptionsAreChecked(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	badConfig := filepath.Join(dir, "config.json")
	if err := os.WriteFile(badConfig, []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		opts []remote.Option
	}{
		{"cert without key", []remote.Option{remote.WithClientCert(filepath.Join(dir, "c.pem"), "")}},
		{"key without cert", []remote.Option{remote.WithClientCert("", filepath.Join(dir, "k.pem"))}},
		{"missing client cert", []remote.Option{remote.WithClientCert(filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem"))}},
		{"zero attempts", []remote.Option{remote.WithRetry(0, time.Second)}},
		{"negative backoff", []remote.Option{remote.WithRetry(3, -time.Second)}},
		{"config and keychain", []remote.Option{remote.WithRegistryConfig(badConfig), remote.WithKeychain(emptyKeychain{})}},
		{"skip verify and CA", []remote.Option{remote.WithInsecureSkipTLSVerify(true), remote.WithCAFile(notPEM)}},
		{"transport and CA", []remote.Option{remote.WithTransport(&offline{}), remote.WithCAFile(notPEM)}},
		{"CA file missing", []remote.Option{remote.WithCAFile(filepath.Join(dir, "missing.pem"))}},
		{"CA file without PEM", []remote.Option{remote.WithCAFile(notPEM)}},
		{"registry config missing", []remote.Option{remote.WithRegistryConfig(filepath.Join(dir, "missing.json"))}},
		{"registry config malformed", []remote.Option{remote.WithRegistryConfig(badConfig)}},
		{"two-line user agent", []remote.Option{remote.WithUserAgent("ferry\r\nX-Evil: 1")}},
		{"nil transport", []remote.Option{remote.WithTransport(nil)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := remote.New(tc.opts...); err == nil {
				t.Fatal("New accepted the options")
			}
		})
	}
	if _, err := remote.New(); err != nil {
		t.Fatalf("New with defaults: %v", err)
	}
}

// emptyKeychain has no credentials.
type emptyKeychain struct{}

func (emptyKeychain) Resolve(authn.Resource) (authn.Authenticator, error) {
	return authn.Anonymous, nil
}

// staticKeychain has one user's credentials for every registry.
type staticKeychain struct{ user, pass string }

func (k staticKeychain) Resolve(authn.Resource) (authn.Authenticator, error) {
	return &authn.Basic{Username: k.user, Password: k.pass}, nil
}

func TestKeychain(t *testing.T) {
	reg := registrytest.New(t, registrytest.WithAuth("kc", "kc-pass"))
	s := newStore(t, remote.WithKeychain(staticKeychain{"kc", "kc-pass"}))
	storetest.NewImage(1, 10).Push(t.Context(), t, s, reg.Host+"/kc/app")
}

// Connect pings once, ahead: the requests that follow do not ping again, and
// a registry that cannot be reached is reported.
func TestConnectPingsAhead(t *testing.T) {
	reg := registrytest.New(t)
	s := newStore(t)
	if err := s.Connect(t.Context(), reg.Host); err != nil {
		t.Fatal(err)
	}
	pings := func() int {
		n := 0
		for _, r := range reg.Requests() {
			if r.Path == "/v2/" {
				n++
			}
		}
		return n
	}
	if n := pings(); n != 1 {
		t.Fatalf("Connect sent %d pings, want 1", n)
	}
	if _, err := s.Tags(t.Context(), reg.Host+"/connect/none"); err != nil {
		t.Fatal(err)
	}
	if n := pings(); n != 1 {
		t.Errorf("%d pings after Connect and a listing, want 1", n)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	if err := s.Connect(t.Context(), closed); err == nil {
		t.Errorf("Connect to %s, where nothing listens, succeeded", closed)
	}
}
