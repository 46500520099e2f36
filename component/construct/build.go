package construct

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"sigs.k8s.io/yaml"

	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/ctf"
	"github.com/ferry-oci/ferry/gitops"
	"github.com/ferry-oci/ferry/localize"
	"github.com/ferry-oci/ferry/localize/helm"
	"github.com/ferry-oci/ferry/oci"
)

// Media types of input blobs when the constructor names none (OCM v1's).
const (
	MediaTypeOctetStream = "application/octet-stream" // file, utf8, binary
	MediaTypeGzip        = "application/gzip"         // file, utf8, binary with compress
	MediaTypeTar         = "application/x-tar"        // dir
	// MediaTypeTGZ is a dir with compress, as the OCM v2 CLI labels it:
	// both OCM CLIs unpack it on `ocm download resource` (v1's own
	// application/x-tgz only v1 does). A constructor's mediaType wins.
	MediaTypeTGZ = "application/x-tar+gzip"
	// MediaTypeTGZv1 is OCM v1's label for a compressed dir.
	MediaTypeTGZv1 = "application/x-tgz"
)

// Options are the settings of one Build call. The zero value works for
// constructors without ociArtifact accesses.
type Options struct {
	// Resolver resolves the imageReference of ociArtifact accesses that carry
	// no digest, for their ociArtifactDigest/v1. nil makes such a resource an
	// error unless its digest generation is skipped.
	Resolver oci.Reader
	// Now is the clock for creationTime when the constructor sets none;
	// nil means time.Now. The time is stored in UTC, whole seconds.
	Now func() time.Time
	// Scheme is the descriptor scheme when the constructor's
	// meta.configuredSchemaVersion sets none; "" means component.SchemeV2
	// (`ocm add componentversions --scheme`).
	Scheme component.Scheme
	// SkipDigestGeneration leaves every resource without a digest
	// (`--skip-digest-generation`), as options.skipDigestGeneration does for
	// one resource.
	SkipDigestGeneration bool
	// CompressedDirMediaType labels a dir input with compress and no
	// mediaType of its own; "" means MediaTypeTGZ (what both OCM CLIs
	// unpack). MediaTypeTGZv1 gives what `ocm add componentversions` of the
	// OCM v1 CLI writes, byte for byte.
	CompressedDirMediaType string
}

// Result is a built component version: its descriptor and the local blobs
// its localBlob accesses point at.
type Result struct {
	Descriptor *component.Descriptor
	// Blobs holds one entry per resource or source made from an input, in
	// descriptor order (sources first). Two inputs with the same content
	// give two entries with the same digest; writers store it once.
	Blobs []Blob
}

// Blob is a local blob made from an input.
type Blob struct {
	// Kind is "resource" or "source"; Identity the element's identity in the
	// descriptor: what OCM's software.ocm.artifact layer annotation records.
	Kind     string
	Identity component.Identity
	// Descriptor gives the blob's media type, digest (the localReference)
	// and size.
	Descriptor v1.Descriptor
	// ReferenceName is OCM's hint for an artifact set (a helm input):
	// "<component>/<chart>:<version>"; "" for other inputs.
	ReferenceName string
	// Manifest is the digest of the main manifest of an artifact set (a
	// helm input): the resource's digest is then ociArtifactDigest/v1 of
	// it, as OCM records OCI artifacts.
	Manifest v1.Hash

	open func() (io.ReadCloser, error)
}

// Open streams the blob's content again: a file input is re-read, a dir
// input re-packed, compressed content re-compressed. The caller closes the
// reader. If the files changed since Build, the content no longer matches
// Descriptor: write it through a digest-checking writer (oci.Writer.Push
// or oci.VerifyReader), which then fails with oci.ErrDigestMismatch.
func (b Blob) Open() (io.ReadCloser, error) {
	if b.open == nil {
		return nil, errors.New("blob has no content")
	}
	return b.open()
}

// Build makes the component version s describes: it reads and packs every
// input, hashes each blob once (streaming), resolves the digests of
// ociArtifact accesses through opts.Resolver, applies OCM's defaults
// (INTEROP §7: local resource version = component version, relation from
// input/access, creationTime now) and validates the descriptor.
//
// Local blobs get a localBlob access {localReference: sha256:<hex>,
// mediaType} and, unless skipped, a genericBlobDigest/v1 digest of the same
// hex; referenceName is left out, as OCM v1 does for these input types.
// Resources with an access keep it as written; ociArtifact ones get
// ociArtifactDigest/v1 of the manifest (or index) digest, taken from an
// "@sha256:" in the reference or else from the registry. Other accesses get
// no digest unless the constructor gives one (ferry does not download them).
func Build(ctx context.Context, s Spec, opts Options) (*Result, error) {
	d := s.skeleton(opts.Scheme)
	if d.CreationTime.IsZero() {
		now := time.Now
		if opts.Now != nil {
			now = opts.Now
		}
		d.CreationTime = now().UTC().Truncate(time.Second)
	}
	res := &Result{Descriptor: d}
	srcIDs, resIDs := d.SourceIdentities(), d.ResourceIdentities() // the inputs below change accesses and digests only
	for i, src := range s.Sources {
		if src.Input == nil {
			continue
		}
		b, err := s.blob(ctx, src.Element, src.Input, opts.CompressedDirMediaType)
		if err != nil {
			return nil, err
		}
		if d.Sources[i].Access, err = localBlobAccess(b.Descriptor); err != nil {
			return nil, err
		}
		b.Kind = "source"
		b.Identity = srcIDs[i]
		res.Blobs = append(res.Blobs, b)
	}
	for i, r := range s.Resources {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		skip := opts.SkipDigestGeneration || r.SkipDigestGeneration
		dr := &d.Resources[i]
		if r.Input == nil {
			if dr.Digest != nil || skip || dr.Access.IsNone() {
				continue
			}
			dg, err := s.accessDigest(ctx, r, opts.Resolver)
			if err != nil {
				return nil, err
			}
			dr.Digest = dg
			continue
		}
		b, err := s.blob(ctx, r.Element, r.Input, opts.CompressedDirMediaType)
		if err != nil {
			return nil, err
		}
		if dr.Access, err = localBlobAccess(b.Descriptor); err != nil {
			return nil, err
		}
		if b.ReferenceName != "" {
			if dr.Access, err = component.NewAccess(component.LocalBlobAccess{Type: component.AccessLocalBlob,
				LocalReference: b.Descriptor.Digest.String(), MediaType: string(b.Descriptor.MediaType), ReferenceName: b.ReferenceName}); err != nil {
				return nil, err
			}
		}
		switch {
		case skip:
		case b.Manifest != (v1.Hash{}):
			dg, err := component.OCIArtifactDigest(b.Manifest.String())
			if err != nil {
				return nil, err
			}
			dr.Digest = &dg
		default:
			dr.Digest = &component.DigestSpec{HashAlgorithm: "SHA-256", NormalisationAlgorithm: component.GenericBlobDigestV1, Value: b.Descriptor.Digest.Hex}
		}
		b.Kind = "resource"
		b.Identity = resIDs[i]
		res.Blobs = append(res.Blobs, b)
	}
	if err := component.Validate(d); err != nil {
		return nil, s.mapValidation(err)
	}
	return res, nil
}

func localBlobAccess(d v1.Descriptor) (component.Access, error) {
	return component.NewAccess(component.LocalBlobAccess{
		Type:           component.AccessLocalBlob,
		LocalReference: d.Digest.String(),
		MediaType:      string(d.MediaType),
	})
}

// accessDigest computes the digest of a resource with an access: only
// ociArtifact accesses have one ferry can compute without downloading.
func (s *Spec) accessDigest(ctx context.Context, r ResourceSpec, resolver oci.Reader) (*component.DigestSpec, error) {
	if r.Access.Kind() != component.AccessOCIArtifact {
		return nil, nil
	}
	at := joinPath(r.Path, "access.imageReference")
	a, err := r.Access.OCIArtifact()
	if err != nil {
		return nil, r.errorf(s, "access", "%w", err)
	}
	ref, err := oci.ParseRef(a.ImageReference)
	if err != nil {
		return nil, &Error{File: s.File, Line: r.Line, Path: at, Err: err}
	}
	if ref.Digest == (v1.Hash{}) {
		if resolver == nil {
			return nil, &Error{File: s.File, Line: r.Line, Path: at, Err: fmt.Errorf(
				"resolving %s: no registry to ask for the digest (pin it with @sha256:…, or set options.skipDigestGeneration)", a.ImageReference)}
		}
		desc, err := resolver.Resolve(ctx, ref.WithDefaultRegistry())
		if err != nil {
			return nil, &Error{File: s.File, Line: r.Line, Path: at, Err: fmt.Errorf("resolving %s: %w", a.ImageReference, err)}
		}
		ref.Digest = desc.Digest
	}
	dg, err := component.OCIArtifactDigest(ref.Digest.String())
	if err != nil {
		return nil, &Error{File: s.File, Line: r.Line, Path: at, Err: err}
	}
	return &dg, nil
}

// blob prepares the content of one input and hashes it once.
func (s *Spec) blob(ctx context.Context, e Element, in *Input, dirTGZ string) (Blob, error) {
	var b Blob
	mt := in.MediaType
	var produce func(ctx context.Context, w io.Writer) error // nil: content is data or the plain file
	var data []byte
	var file string
	switch in.Type {
	case InputFile, InputDir:
		p := in.Path
		if !filepath.IsAbs(p) {
			p = filepath.Join(s.Dir, p)
		}
		abs, err := filepath.Abs(p)
		if err != nil {
			return b, e.errorf(s, "input.path", "%w", err)
		}
		fi, err := os.Stat(abs)
		if err != nil {
			return b, e.errorf(s, "input.path", "%w", err)
		}
		if in.Type == InputFile {
			if !fi.Mode().IsRegular() {
				return b, e.errorf(s, "input.path", "%s is not a regular file (for a directory use input type dir)", p)
			}
			file = abs
			if in.Compress {
				produce = func(ctx context.Context, w io.Writer) error { return gzipFile(ctx, w, abs) }
			}
			break
		}
		if !fi.IsDir() {
			return b, e.errorf(s, "input.path", "%s is not a directory (for a file use input type file)", p)
		}
		t := dirTar{root: abs, in: in}
		if in.Compress {
			produce = func(ctx context.Context, w io.Writer) error {
				return gzipped(w, func(w io.Writer) error { return t.write(ctx, w) })
			}
			if mt == "" {
				mt = cmp.Or(dirTGZ, MediaTypeTGZ)
			}
		} else {
			produce = t.write
			if mt == "" {
				mt = MediaTypeTar
			}
		}
	case InputUTF8:
		var err error
		if data, err = utf8Content(in); err != nil {
			return b, e.errorf(s, "input", "%w", err)
		}
	case InputBinary:
		data = in.Data
	case InputHelm:
		set, hint, manifest, err := s.helmInput(ctx, in)
		if err != nil {
			return b, e.errorf(s, "input.path", "%w", err)
		}
		data, mt, b.ReferenceName, b.Manifest = set, ctf.ArtifactSetMediaType(string(types.OCIManifestSchema1)), hint, manifest
	default:
		return b, e.errorf(s, "input.type", "%w %q", ErrUnsupportedInput, in.Type)
	}
	if data != nil && in.Compress {
		var buf bytes.Buffer
		if err := gzipped(&buf, func(w io.Writer) error { _, err := w.Write(data); return err }); err != nil {
			return b, e.errorf(s, "input", "compressing: %w", err)
		}
		data = buf.Bytes()
	}
	if mt == "" {
		mt = MediaTypeOctetStream
		if in.Compress {
			mt = MediaTypeGzip
		}
	}
	switch {
	case produce != nil:
		b.open = func() (io.ReadCloser, error) { return pipe(produce), nil }
	case file != "":
		b.open = func() (io.ReadCloser, error) { return os.Open(file) }
	default:
		if data == nil {
			data = []byte{}
		}
		b.open = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	}
	h := sha256.New()
	cw := &countWriter{w: h}
	var err error
	if produce != nil {
		err = produce(ctx, cw)
	} else {
		var rc io.ReadCloser
		if rc, err = b.open(); err == nil {
			_, err = io.Copy(cw, &ctxReader{ctx: ctx, r: rc})
			rc.Close()
		}
	}
	if err != nil {
		field := "input"
		if in.Path != "" {
			field = "input.path"
		}
		return b, e.errorf(s, field, "reading %s input: %w", in.Type, err)
	}
	b.Descriptor = v1.Descriptor{
		MediaType: types.MediaType(mt),
		Size:      cw.n,
		Digest:    v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(h.Sum(nil))},
	}
	return b, nil
}

// utf8Content is the blob of a utf8 input, as OCM v1 makes it: text as is;
// json compact, formattedJson indented by two spaces (both with sorted keys,
// from Go's encoding/json like OCM's), yaml as sigs.k8s.io/yaml writes it.
// A string value of json, formattedJson or yaml is parsed as YAML first.
func utf8Content(in *Input) ([]byte, error) {
	raw, format := in.JSON, "json"
	switch {
	case in.FormattedJSON != nil:
		raw, format = in.FormattedJSON, "formattedJson"
	case in.YAML != nil:
		raw, format = in.YAML, "yaml"
	case in.JSON == nil:
		return []byte(in.Text), nil
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, fmt.Errorf("%s: %w", format, err)
	}
	if str, ok := v.(string); ok {
		v = nil
		if err := yaml.Unmarshal([]byte(str), &v); err != nil {
			return nil, fmt.Errorf("%s: parsing the string as YAML: %w", format, err)
		}
	}
	switch format {
	case "json":
		return json.Marshal(v)
	case "formattedJson":
		return json.MarshalIndent(v, "", "  ")
	}
	return yaml.Marshal(v)
}

// gzipped writes what write produces through Go's gzip at the default level
// with an empty header, as OCM v1 compresses inputs: the same input gives the
// same bytes with the same Go compress/flate.
func gzipped(w io.Writer, write func(io.Writer) error) error {
	zw := gzip.NewWriter(w)
	if err := write(zw); err != nil {
		return err
	}
	return zw.Close()
}

func gzipFile(ctx context.Context, w io.Writer, file string) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	return gzipped(w, func(w io.Writer) error {
		_, err := io.Copy(w, &ctxReader{ctx: ctx, r: f})
		return err
	})
}

// pipe runs produce in a goroutine and returns its output as a reader; the
// goroutine ends when produce is done or the reader is closed.
func pipe(produce func(context.Context, io.Writer) error) io.ReadCloser {
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(produce(context.Background(), pw)) }()
	return pr
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// helmInput packs a chart directory or .tgz as an OCI Helm chart and
// returns its artifact set and OCM's reference hint
// "<component>/<chart>:<version>" (or the input's repository).
func (s *Spec) helmInput(ctx context.Context, in *Input) ([]byte, string, v1.Hash, error) {
	p := in.Path
	if !filepath.IsAbs(p) {
		p = filepath.Join(s.Dir, p)
	}
	fi, err := os.Stat(p)
	if err != nil {
		return nil, "", v1.Hash{}, err
	}
	var c *helm.Chart
	if fi.IsDir() {
		c, err = helm.LoadDir(p)
	} else {
		var f *os.File
		if f, err = os.Open(p); err == nil {
			c, err = helm.LoadArchive(f, localize.Limits{})
			f.Close()
		}
	}
	if err != nil {
		return nil, "", v1.Hash{}, err
	}
	if in.Version != "" && in.Version != c.Version {
		return nil, "", v1.Hash{}, fmt.Errorf("chart %s has version %s, the input says %s", c.Name, c.Version, in.Version)
	}
	a, err := gitops.BuildChart(c)
	if err != nil {
		return nil, "", v1.Hash{}, err
	}
	hint := s.Name + "/" + c.Name
	switch r := in.Repository; {
	case strings.HasPrefix(r, "/"):
		hint = strings.TrimPrefix(r, "/")
	case r != "":
		hint = s.Name + "/" + r
	}
	if !strings.Contains(hint, ":") {
		hint += ":" + c.Version
	}
	var buf bytes.Buffer
	if _, err := ctf.WriteArtifactSet(ctx, &buf, a.Reader(), c.Name, a.Descriptor, []string{a.Tag}); err != nil {
		return nil, "", v1.Hash{}, err
	}
	return buf.Bytes(), hint, a.Descriptor.Digest, nil
}
