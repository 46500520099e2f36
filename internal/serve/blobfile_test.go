package serve

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/distribution/distribution/v3/configuration"
)

// fakeBlobServer answers like distribution's blob server: headers, then the
// body in 32 KiB writes. Its body is not the file's, so a test sees which
// one the client got; it records the error its copy stopped on.
type fakeBlobServer struct {
	status  int
	body    []byte
	copyErr error
	writes  int
	done    chan struct{} // closed when ServeHTTP returns
	written func()        // called after the first write, if set
}

func (f *fakeBlobServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer close(f.done)
	w.Header().Set("Content-Length", strconv.Itoa(len(f.body)))
	w.Header().Set("Docker-Content-Digest", "sha256:x")
	w.WriteHeader(f.status)
	if r.Method == http.MethodHead {
		return
	}
	for rest := f.body; len(rest) > 0; {
		n := min(len(rest), 32<<10)
		if _, err := w.Write(rest[:n]); err != nil {
			f.copyErr = err
			return
		}
		f.writes++
		if f.writes == 1 && f.written != nil {
			f.written()
		}
		rest = rest[n:]
	}
}

func TestBlobFiles(t *testing.T) {
	root := t.TempDir()
	file := bytes.Repeat([]byte("the blob's file "), 20000) // 320,000 bytes
	sum := sha256.Sum256(file)
	hx := hex.EncodeToString(sum[:])
	path := filepath.Join(root, "sha256", hx[:2], hx, "data")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, file, 0o644); err != nil {
		t.Fatal(err)
	}
	fromDriver := bytes.Repeat([]byte("through the driver"), len(file)/18+1)[:len(file)]
	blobURL := "/v2/library/app/blobs/sha256:" + hx
	small := file[:1000]
	smallSum := sha256.Sum256(small)
	smallHex := hex.EncodeToString(smallSum[:])
	if err := os.MkdirAll(filepath.Join(root, "sha256", smallHex[:2], smallHex), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "sha256", smallHex[:2], smallHex, "data"), small, 0o644); err != nil {
		t.Fatal(err)
	}

	// A file that turns up while distribution sends a blob's body.
	lateHex := hex.EncodeToString(bytes.Repeat([]byte{1}, 32))
	late := filepath.Join(root, "sha256", lateHex[:2], lateHex, "data")
	turnUp := func() {
		if err := os.MkdirAll(filepath.Dir(late), 0o755); err != nil {
			t.Error(err)
		}
		if err := os.WriteFile(late, file, 0o644); err != nil {
			t.Error(err)
		}
	}

	for _, tc := range []struct {
		name     string
		method   string
		url      string
		header   http.Header
		status   int
		body     []byte // what distribution writes
		want     []byte // what the client gets
		fromFile bool
		written  func()
	}{
		{name: "whole blob", url: blobURL, status: 200, body: fromDriver, want: file, fromFile: true},
		{name: "a range is distribution's", url: blobURL, header: http.Header{"Range": {"bytes=0-9"}}, status: 206, body: fromDriver[:10], want: fromDriver[:10]},
		{name: "an error is distribution's", url: blobURL, status: 404, body: []byte(`{"errors":[]}`), want: []byte(`{"errors":[]}`)},
		{name: "a size that differs is distribution's", url: blobURL, status: 200, body: fromDriver[:minFileBody+1], want: fromDriver[:minFileBody+1]},
		{name: "a missing file is distribution's", url: "/v2/library/app/blobs/sha256:" + hex.EncodeToString(make([]byte, 32)), status: 200, body: fromDriver, want: fromDriver},
		{name: "a file that turns up midway is not spliced in", url: "/v2/library/app/blobs/sha256:" + lateHex, status: 200, body: fromDriver, want: fromDriver, written: turnUp},
		{name: "another digest algorithm is distribution's", url: "/v2/library/app/blobs/sha512:" + hx + hx, status: 200, body: fromDriver, want: fromDriver},
		{name: "a manifest is distribution's", url: "/v2/library/app/manifests/sha256:" + hx, status: 200, body: fromDriver, want: fromDriver},
		{name: "a small blob is distribution's", url: "/v2/library/app/blobs/sha256:" + smallHex, status: 200, body: fromDriver[:len(small)], want: fromDriver[:len(small)]},
		{name: "HEAD", method: http.MethodHead, url: blobURL, status: 200, body: fromDriver, want: nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			next := &fakeBlobServer{status: tc.status, body: tc.body, done: make(chan struct{}), written: tc.written}
			srv := httptest.NewServer(withBlobFiles(next, root))
			defer srv.Close()
			method := tc.method
			if method == "" {
				method = http.MethodGet
			}
			req, err := http.NewRequest(method, srv.URL+tc.url, nil)
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tc.header {
				req.Header[k] = v
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if !bytes.Equal(got, tc.want) {
				t.Errorf("got %d bytes %.20q…, want %d bytes %.20q…", len(got), got, len(tc.want), tc.want)
			}
			if resp.Header.Get("Docker-Content-Digest") != "sha256:x" {
				t.Errorf("distribution's headers lost: %v", resp.Header)
			}
			<-next.done // the client may have its body before the handler returns
			if tc.fromFile {
				if !errors.Is(next.copyErr, errBodySent) || next.writes != 0 {
					t.Errorf("distribution's own copy went on: %d writes, stopped by %v", next.writes, next.copyErr)
				}
			} else if next.copyErr != nil {
				t.Errorf("distribution's copy stopped: %v", next.copyErr)
			}
		})
	}
}

func TestBlobFileRoot(t *testing.T) {
	fs := func(p configuration.Parameters) configuration.Storage {
		return configuration.Storage{"filesystem": p}
	}
	for _, tc := range []struct {
		name string
		cfg  configuration.Configuration
		want string
	}{
		{"filesystem", configuration.Configuration{Storage: fs(configuration.Parameters{"rootdirectory": "/srv/reg"})}, "/srv/reg/docker/registry/v2/blobs"},
		{"the driver's default root", configuration.Configuration{Storage: fs(nil)}, "/var/lib/registry/docker/registry/v2/blobs"},
		{"in memory", configuration.Configuration{Storage: configuration.Storage{"inmemory": nil}}, ""},
		{"storage middleware", configuration.Configuration{Storage: fs(nil), Middleware: map[string][]configuration.Middleware{"storage": {{Name: "redirect"}}}}, ""},
		{"pull-through cache", configuration.Configuration{Storage: fs(nil), Proxy: configuration.Proxy{RemoteURL: "https://upstream.example"}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := blobFileRoot(&tc.cfg); got != tc.want {
				t.Errorf("blobFileRoot = %q, want %q", got, tc.want)
			}
		})
	}
}
