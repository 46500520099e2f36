package helmrepo_test

import (
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ferry-oci/ferry/helmrepo"
	"github.com/ferry-oci/ferry/oci"
)

func serve(t *testing.T, files map[string]string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, b)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestFetch(t *testing.T) {
	archive := "not really a tgz, but bytes"
	srv := serve(t, map[string]string{
		"/repo/index.yaml":           "apiVersion: v1\nentries:\n  app:\n  - version: 1.0.0\n    urls: [charts/app-1.0.0.tgz]\n",
		"/repo/charts/app-1.0.0.tgz": archive,
	})
	ch, err := helmrepo.Fetch(t.Context(), srv.Client(), helmrepo.Access{HelmRepository: srv.URL + "/repo", HelmChart: "app:1.0.0"})
	if err != nil {
		t.Fatal(err)
	}
	if string(ch.Archive) != archive || ch.Provenance != nil || ch.URL != srv.URL+"/repo/charts/app-1.0.0.tgz" {
		t.Errorf("fetched %+v", ch)
	}
	a, err := helmrepo.OCI(ch)
	if err != nil {
		t.Fatal(err)
	}
	b, err := helmrepo.OCI(ch)
	if err != nil || a.Manifest.Digest != b.Manifest.Digest {
		t.Errorf("the same chart gave %s and %s", a.Manifest.Digest, b.Manifest.Digest)
	}
	// The version may be given on its own.
	if _, err := helmrepo.Fetch(t.Context(), srv.Client(), helmrepo.Access{HelmRepository: srv.URL + "/repo", HelmChart: "app", Version: "1.0.0"}); err != nil {
		t.Error(err)
	}
	for _, tc := range []struct {
		acc  helmrepo.Access
		want error
	}{
		{helmrepo.Access{HelmRepository: srv.URL + "/repo", HelmChart: "app:2.0.0"}, helmrepo.ErrNoChart},
		{helmrepo.Access{HelmRepository: srv.URL + "/repo", HelmChart: "app"}, helmrepo.ErrNoChart},
		{helmrepo.Access{HelmRepository: srv.URL + "/nothing", HelmChart: "app:1.0.0"}, oci.ErrNotFound},
		{helmrepo.Access{HelmRepository: "file:///etc", HelmChart: "app:1.0.0"}, helmrepo.ErrBadRepository},
	} {
		if _, err := helmrepo.Fetch(t.Context(), srv.Client(), tc.acc); !errors.Is(err, tc.want) {
			t.Errorf("%+v: %v, want %v", tc.acc, err, tc.want)
		}
	}
}

func TestFetchBoundsAndDigest(t *testing.T) {
	srv := serve(t, map[string]string{
		"/index.yaml": "apiVersion: v1\nentries:\n  app:\n  - version: 1.0.0\n    digest: " + strings.Repeat("ab", 32) + "\n    urls: [app.tgz]\n",
		"/app.tgz":    "changed",
	})
	_, err := helmrepo.Fetch(t.Context(), srv.Client(), helmrepo.Access{HelmRepository: srv.URL, HelmChart: "app:1.0.0"})
	if !errors.Is(err, oci.ErrDigestMismatch) || !strings.Contains(err.Error(), "app:1.0.0") {
		t.Errorf("a chart that does not match the index: %v", err)
	}
	big := serve(t, map[string]string{"/index.yaml": strings.Repeat("x", helmrepo.MaxIndexBytes+1)})
	if _, err := helmrepo.Fetch(t.Context(), big.Client(), helmrepo.Access{HelmRepository: big.URL, HelmChart: "app:1.0.0"}); !errors.Is(err, oci.ErrTooLarge) {
		t.Errorf("an index over the bound: %v", err)
	}
}

// TestFetchCACert: a repository served over TLS with its own CA is
// trusted through the access's caCert only.
func TestFetchCACert(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/index.yaml":
			io.WriteString(w, "apiVersion: v1\nentries:\n  app:\n  - version: 1.0.0\n    urls: [app.tgz]\n")
		case "/app.tgz":
			io.WriteString(w, "chart")
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	acc := helmrepo.Access{HelmRepository: srv.URL, HelmChart: "app:1.0.0"}
	if _, err := helmrepo.Fetch(t.Context(), &http.Client{}, acc); err == nil {
		t.Fatal("an untrusted certificate was accepted")
	}
	acc.CACert = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}))
	if _, err := helmrepo.Fetch(t.Context(), &http.Client{}, acc); err != nil {
		t.Fatal(err)
	}
}

// TestFetchKeepsSpelling: versions and digests that look like numbers in
// index.yaml are read as written.
func TestFetchKeepsSpelling(t *testing.T) {
	srv := serve(t, map[string]string{
		"/index.yaml": "apiVersion: v1\nentries:\n  app:\n  - version: 1.10\n    digest: " + strings.Repeat("1", 64) + "\n    urls: [app.tgz]\n",
		"/app.tgz":    "chart",
	})
	_, err := helmrepo.Fetch(t.Context(), srv.Client(), helmrepo.Access{HelmRepository: srv.URL, HelmChart: "app:1.10"})
	if !errors.Is(err, oci.ErrDigestMismatch) || !strings.Contains(err.Error(), strings.Repeat("1", 64)) {
		t.Errorf("version 1.10 with an all-digit digest: %v", err)
	}
}
