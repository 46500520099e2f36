package serve

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/distribution/distribution/v3/configuration"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Serving a blob's bytes from its file.
//
// distribution answers a blob GET through its storage driver's reader:
// http.ServeContent copies it to the connection 32 KiB at a time, one
// write system call each, after reading it through a 4 MiB buffer. On
// filesystem storage the blob is a file, and the kernel can send a file
// to a socket by itself (sendfile): no copy through the registry's memory
// and a system call per few MiB. withBlobFiles keeps distribution in
// charge of the request (authorization, the repository's link to the
// blob, the headers, conditional requests and ranges) and takes over only
// the body of a full 200 answer: when distribution starts writing it, the
// file goes to the connection instead, and distribution's own copy is
// stopped.

// blobFileRoot returns the directory the blob files of cfg's storage are
// under, or "" when they are not plain files ferry can serve: another
// driver, storage middleware that may change what a path holds, or a
// pull-through cache, which answers while it stores.
func blobFileRoot(cfg *configuration.Configuration) string {
	if cfg.Storage.Type() != "filesystem" || len(cfg.Middleware["storage"]) > 0 || cfg.Proxy.RemoteURL != "" {
		return ""
	}
	root := "/var/lib/registry" // the filesystem driver's default, and how it reads the setting
	if v, ok := cfg.Storage.Parameters()["rootdirectory"]; ok {
		root = fmt.Sprint(v)
	}
	// The driver's path layout (distribution's registry/storage/paths.go).
	return filepath.Join(root, "docker", "registry", "v2", "blobs")
}

// withBlobFiles serves the bodies of blob GETs from the files under root
// (see blobFileRoot).
func withBlobFiles(next http.Handler, root string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		file, ok := blobFile(root, r)
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(&blobFileWriter{ResponseWriter: w, file: file}, r)
	})
}

// blobFile returns the file of the blob a GET of the whole blob asks for.
func blobFile(root string, r *http.Request) (string, bool) {
	if r.Method != http.MethodGet || r.Header.Get("Range") != "" {
		return "", false
	}
	i := strings.LastIndex(r.URL.Path, "/blobs/")
	if i < 0 || !strings.HasPrefix(r.URL.Path, "/v2/") {
		return "", false
	}
	d, err := v1.NewHash(r.URL.Path[i+len("/blobs/"):]) // sha256 and 64 lower-case hex digits, or an error
	if err != nil {
		return "", false
	}
	return filepath.Join(root, d.Algorithm, d.Hex[:2], d.Hex, "data"), true
}

// errBodySent stops distribution's copy of a body blobFileWriter sent
// from the file. net/http's ServeContent drops a body's write error.
var errBodySent = errors.New("blob body sent from its file")

// blobFileWriter is the response writer distribution answers a blob GET
// through. At the first write of a 200 answer's body it sends the blob's
// file instead, when the file has the length distribution announced, and
// fails the writes that follow so that distribution stops reading. When it
// does not, the body is distribution's to the end.
type blobFileWriter struct {
	http.ResponseWriter
	file    string
	status  int
	decided bool // the first write of the body came
	sent    bool // and the file went in its place
}

func (w *blobFileWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *blobFileWriter) Write(p []byte) (int, error) {
	if w.sent {
		return 0, errBodySent
	}
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if w.status == http.StatusOK && len(p) > 0 && !w.decided {
		w.decided = true
		if sent, err := w.sendFile(); sent {
			w.sent = true
			if err == nil {
				err = errBodySent
			}
			return 0, err
		}
	}
	return w.ResponseWriter.Write(p)
}

// minFileBody is the smallest blob sent from its file. distribution has
// read a small blob whole before its first write, which carries it in a
// few system calls; opening the file again would cost more than it saves.
const minFileBody = 256 << 10

// sendFile copies the whole file to the response and reports whether it
// wrote anything: when the blob is small, the file cannot be opened or its
// size is not the Content-Length distribution set, nothing is written and
// distribution goes on with its own reader.
func (w *blobFileWriter) sendFile() (bool, error) {
	want, err := strconv.ParseInt(w.Header().Get("Content-Length"), 10, 64)
	if err != nil || want < minFileBody {
		return false, nil
	}
	f, err := os.Open(w.file)
	if err != nil {
		return false, nil
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() || fi.Size() != want {
		return false, nil
	}
	// net/http's response hands a file to the connection's ReadFrom:
	// sendfile on a plain TCP connection.
	_, err = io.Copy(w.ResponseWriter, io.LimitReader(f, want))
	return true, err
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *blobFileWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
