package ocireg

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/oci"
)

// tarModTime is the modification time OCM v1 gives every member it writes
// (2022-01-01T00:00:00Z).
var tarModTime = time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC)

// DescriptorTar returns the descriptor layer OCM v1 writes for the
// descriptor bytes raw: a USTAR tar with the single regular member
// component-descriptor.yaml, mode 0 (OCM sets none), uid and gid 0, empty
// user and group names, mtime 2022-01-01T00:00:00Z, the data padded to 512
// bytes, and the two zero end blocks (§2.3). The result depends on raw
// alone.
func DescriptorTar(raw []byte) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(len(raw) + 3*512 + 512)
	tw := tar.NewWriter(&buf)
	hdr := &tar.Header{
		Typeflag: tar.TypeReg,
		Name:     DescriptorFile,
		Size:     int64(len(raw)),
		ModTime:  tarModTime,
		Format:   tar.FormatUSTAR,
	}
	if err := tw.WriteHeader(hdr); err != nil {
		return nil, fmt.Errorf("writing descriptor tar: %w", err)
	}
	if _, err := tw.Write(raw); err != nil {
		return nil, fmt.Errorf("writing descriptor tar: %w", err)
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("writing descriptor tar: %w", err)
	}
	return buf.Bytes(), nil
}

// DescriptorFromTar returns the descriptor held by the tar layer b: the
// first member whose name, without leading '/', is
// component-descriptor.yaml, as OCM reads it (§2.4). Every member is
// checked: a name with a ".." element fails, as does a descriptor member
// that is not a regular file, one larger than component.MaxDescriptorBytes
// (oci.ErrTooLarge), a damaged tar and a tar without the member
// (ErrMalformed).
func DescriptorFromTar(b []byte) ([]byte, error) {
	tr := tar.NewReader(bytes.NewReader(b))
	var found []byte
	for n := 0; ; n++ {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading tar member %d: %v: %w", n, err, ErrMalformed)
		}
		if err := checkMemberName(hdr.Name); err != nil {
			return nil, err
		}
		if found != nil || strings.TrimLeft(hdr.Name, "/") != DescriptorFile {
			continue
		}
		if hdr.Typeflag != tar.TypeReg { // the reader reports old regular files (TypeRegA) as TypeReg
			return nil, fmt.Errorf("tar member %q is not a regular file (type %q): %w", hdr.Name, hdr.Typeflag, ErrMalformed)
		}
		if hdr.Size > component.MaxDescriptorBytes {
			return nil, fmt.Errorf("tar member %q: %d bytes, more than %d: %w", hdr.Name, hdr.Size, component.MaxDescriptorBytes, oci.ErrTooLarge)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			return nil, fmt.Errorf("reading tar member %q: %v: %w", hdr.Name, err, ErrMalformed)
		}
		found = data
	}
	if found == nil {
		return nil, fmt.Errorf("the tar has no %s: %w", DescriptorFile, ErrMalformed)
	}
	return found, nil
}

// errUnsafeName is wrapped by the error for a tar member whose name climbs
// out of the archive.
var errUnsafeName = errors.New("unsafe tar member name")

func checkMemberName(name string) error {
	if name == "" {
		return fmt.Errorf("tar member with an empty name: %w: %w", errUnsafeName, ErrMalformed)
	}
	for _, e := range strings.FieldsFunc(name, func(r rune) bool { return r == '/' || r == '\\' }) {
		if e == ".." {
			return fmt.Errorf("tar member %q: %w: %w", name, errUnsafeName, ErrMalformed)
		}
	}
	return nil
}
