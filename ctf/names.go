package ctf

import (
	"fmt"
	"path"
	"regexp"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/ferry-oci/ferry/oci"
)

// File names inside a CTF (INTEROP.md §3.1) and an artifact set (§3.3).
const (
	IndexFile        = "artifact-index.json"
	BlobsDir         = "blobs"
	setIndexFile     = "index.json"
	setDescriptorOCM = "artifact-descriptor.json"
	setLayoutFile    = "oci-layout"
)

var hexPattern = regexp.MustCompile(`^[a-f0-9]+$`)

// hexLen is the length of a digest's hex part for each algorithm ferry reads.
var hexLen = map[string]int{"sha256": 64, "sha512": 128}

// parseDigest parses "sha256:<64 hex>" or "sha512:<128 hex>".
func parseDigest(s string) (v1.Hash, error) {
	alg, hex, ok := strings.Cut(s, ":")
	if !ok || !validHex(alg, hex) {
		return v1.Hash{}, fmt.Errorf("digest %q is not sha256:<64 hex> or sha512:<128 hex>", s)
	}
	return v1.Hash{Algorithm: alg, Hex: hex}, nil
}

func validHex(alg, hex string) bool {
	n, ok := hexLen[alg]
	return ok && len(hex) == n && hexPattern.MatchString(hex)
}

// blobName returns the flat file name of digest h inside blobs/: the digest
// with ':' replaced by '.'.
func blobName(h v1.Hash) string { return h.Algorithm + "." + h.Hex }

// blobPath returns the path of digest h relative to the archive root.
func blobPath(h v1.Hash) string { return BlobsDir + "/" + blobName(h) }

// BlobPath returns the name of blob h in a CTF: "blobs/sha256.<hex>".
func BlobPath(h v1.Hash) string { return blobPath(h) }

// digestOfBlobName parses a flat blob file name ("sha256.<hex>").
func digestOfBlobName(name string) (v1.Hash, bool) {
	alg, hex, ok := strings.Cut(name, ".")
	if !ok || !validHex(alg, hex) {
		return v1.Hash{}, false
	}
	return v1.Hash{Algorithm: alg, Hex: hex}, true
}

// validRepository reports whether repo is a repository name as a CTF holds
// it: path components of the distribution grammar, at most 255 characters.
// Every component is checked, so a valid name is always a relative path
// without "." or "..".
func validRepository(repo string) error {
	if repo == "" || len(repo) > 255 {
		return fmt.Errorf("repository %q: empty or longer than 255 characters: %w", repo, oci.ErrInvalidReference)
	}
	for _, c := range strings.Split(repo, "/") {
		if !oci.ValidPathComponent(c) {
			return fmt.Errorf("repository %q: component %q must be lower case letters and digits separated by '.', '_', '__' or '-': %w",
				repo, c, oci.ErrInvalidReference)
		}
	}
	return nil
}

func validTag(tag string) error {
	if !oci.ValidTag(tag) {
		return fmt.Errorf("tag %q has characters other than letters, digits, '_', '.', '-', or is longer than 128: %w", tag, oci.ErrInvalidReference)
	}
	return nil
}

// entryKind is what an archive entry is to ferry.
type entryKind int

const (
	kindIgnored  entryKind = iota // a safe name ferry does not use (ocm ignores it too)
	kindTop                       // a recognised top-level file (artifact-index.json, index.json, ...)
	kindBlobsDir                  // the blobs directory, or blobs/<alg>/ of the nested layout
	kindBlob                      // blobs/<alg>.<hex> or blobs/<alg>/<hex>
)

// classify checks an entry name from an archive and says what it is. key
// is the canonical name: the top-level file's name, or "blobs/<alg>.<hex>"
// for a blob in either the flat or the nested ("OCI compliant") layout.
//
// One leading "./" is accepted (GNU tar -C dir . writes it; ocm does not
// read such tars, ferry does), as is a trailing "/" on directories. Names
// that could reach outside the archive or that are not in clean form are
// refused with ErrUnsafeName; safe names that are not part of the format
// (extra files such as ferry-bundle.json) are ignored, as ocm ignores them.
func classify(name string, tops []string) (key string, kind entryKind, err error) {
	n := strings.TrimPrefix(name, "./")
	n = strings.TrimSuffix(n, "/")
	if n == "" || n == "." {
		if name == "" {
			return "", 0, ErrUnsafeName
		}
		return "", kindIgnored, nil // the archive root "./"
	}
	if strings.HasPrefix(n, "/") || strings.ContainsAny(n, "\\\x00") || path.Clean(n) != n {
		return "", 0, ErrUnsafeName
	}
	for _, c := range strings.Split(n, "/") {
		if c == ".." || c == "." {
			return "", 0, ErrUnsafeName
		}
	}
	for _, t := range tops {
		if n == t {
			return n, kindTop, nil
		}
	}
	if n == BlobsDir {
		return n, kindBlobsDir, nil
	}
	rest, ok := strings.CutPrefix(n, BlobsDir+"/")
	if !ok {
		return "", kindIgnored, nil
	}
	if h, ok := digestOfBlobName(rest); ok {
		return blobPath(h), kindBlob, nil
	}
	alg, hex, nested := strings.Cut(rest, "/")
	if !nested {
		if _, known := hexLen[rest]; known {
			return "", kindBlobsDir, nil
		}
		return "", kindIgnored, nil
	}
	if validHex(alg, hex) {
		return blobPath(v1.Hash{Algorithm: alg, Hex: hex}), kindBlob, nil
	}
	return "", kindIgnored, nil
}
