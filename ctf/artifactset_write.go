package ctf

import (
	"archive/tar"
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"slices"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/flate"

	"github.com/ferry-oci/ferry/oci"
)

// ArtifactSetMediaType returns the media type OCM gives the artifact set of
// an artifact whose manifest has media type manifestMediaType: "+json"
// dropped, "+tar+gzip" appended ("application/vnd.oci.image.index.v1+json"
// gives "application/vnd.oci.image.index.v1+tar+gzip").
func ArtifactSetMediaType(manifestMediaType string) string {
	return strings.TrimSuffix(manifestMediaType, "+json") + "+tar+gzip"
}

// ociLayout is the oci-layout file OCM writes into an artifact set.
var ociLayout = []byte("{\n    \"imageLayoutVersion\": \"1.0.0\"\n}\n")

// maxSetDepth bounds how deep indexes may nest in an artifact set written.
const maxSetDepth = 8

// WriteArtifactSet writes to w the artifact set (INTEROP.md §3.3) of the
// artifact main, read from repository repo of src with everything below
// it: index, child manifests, configs and layers, each blob once. tags are
// the tags the set records for main (OCM records the tag of the image
// reference; none for a reference by digest). It returns the descriptor of
// the set written: its digest, size and ArtifactSetMediaType.
//
// The set is written as OCM writes one (`ocm transfer --copy-resources`,
// `ocm download`; checked against sets of OCM 0.20 and 0.50): a gzip'd tar of index.json (main last,
// every manifest after the manifests it names, main annotated with
// software.ocm/tags and org.opencontainers.image.ref.name, the index with
// software.ocm/main), oci-layout, the directory blobs and the blobs as
// blobs/<alg>.<hex> in name order; the headers of ctf's own tars
// (ModTime, modes 0644 and 0755). The gzip stream is pgzip's, which OCM
// uses: the same header, the tar deflated in 1 MiB blocks, each
// primed with the last 16 KiB of the one before and ended by a sync flush.
// For the same image the bytes are those OCM writes, so the set's digest
// is too.
//
// Every byte read from src is verified against its descriptor. Blobs are
// streamed (memory is one 1 MiB compression block); manifests are read
// into memory, each bounded by oci.MaxManifestBytes. Non-distributable layers are
// left out, as the transfer engine leaves them. w sees a partial set when
// the write fails; write to a temporary file and drop it then.
func WriteArtifactSet(ctx context.Context, w io.Writer, src oci.Reader, repo string, main v1.Descriptor, tags []string) (v1.Descriptor, error) {
	for _, t := range tags {
		if err := validTag(t); err != nil {
			return v1.Descriptor{}, fmt.Errorf("writing the artifact set of %s: %w", main.Digest, err)
		}
	}
	g := &setGraph{ctx: ctx, src: src, repo: repo, blobs: map[v1.Hash]setBlob{}}
	if main.MediaType == "" {
		return v1.Descriptor{}, fmt.Errorf("writing the artifact set of %s: no media type: %w", main.Digest, oci.ErrUnsupported)
	}
	if err := g.add(main, 0); err != nil {
		return v1.Descriptor{}, fmt.Errorf("writing the artifact set of %s@%s: %w", repo, main.Digest, err)
	}
	index, err := g.index(main.Digest, tags)
	if err != nil {
		return v1.Descriptor{}, err
	}
	names := make([]v1.Hash, 0, len(g.blobs))
	for h := range g.blobs {
		names = append(names, h)
	}
	slices.SortFunc(names, func(a, b v1.Hash) int { return cmp.Compare(blobName(a), blobName(b)) })

	dw := &digestWriter{w: w, h: sha256.New()}
	zw := newPgzipWriter(dw)
	tw := tar.NewWriter(zw)
	file := func(name string, b []byte) error {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Size: int64(len(b)), Mode: 0o644, ModTime: ModTime}); err != nil {
			return err
		}
		_, err := tw.Write(b)
		return err
	}
	err = file(setIndexFile, index)
	if err == nil {
		err = file(setLayoutFile, ociLayout)
	}
	if err == nil {
		err = tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: BlobsDir, Mode: 0o755, ModTime: ModTime})
	}
	for _, h := range names {
		if err != nil {
			break
		}
		b := g.blobs[h]
		if b.data != nil {
			err = file(blobPath(h), b.data)
			continue
		}
		err = g.copyBlob(tw, b.desc)
	}
	if err == nil {
		err = tw.Close()
	}
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		return v1.Descriptor{}, fmt.Errorf("writing the artifact set of %s@%s: %w", repo, main.Digest, err)
	}
	return v1.Descriptor{
		MediaType: types.MediaType(ArtifactSetMediaType(string(main.MediaType))),
		Size:      dw.n,
		Digest:    v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", dw.h.Sum(nil))},
	}, nil
}

// setGraph collects what an artifact set holds.
type setGraph struct {
	ctx     context.Context
	src     oci.Reader
	repo    string
	entries []v1.Descriptor // index.json's manifests, each after those it names
	blobs   map[v1.Hash]setBlob
}

// setBlob is one blob of the set: a manifest (its bytes, read and
// verified) or a config or layer (streamed when the set is written).
type setBlob struct {
	desc v1.Descriptor
	data []byte
}

// add reads manifest d and everything below it. Like OCM, it lists a
// manifest after the manifests it names, and once per time it is named.
func (g *setGraph) add(d v1.Descriptor, depth int) error {
	if depth > maxSetDepth {
		return fmt.Errorf("indexes nest more than %d deep at %s", maxSetDepth, d.Digest)
	}
	switch d.MediaType {
	case types.DockerManifestSchema1, types.DockerManifestSchema1Signed:
		return fmt.Errorf("manifest %s: Docker schema 1 manifests are not supported: %w", d.Digest, oci.ErrUnsupported)
	}
	if !oci.IsManifest(d.MediaType) {
		return fmt.Errorf("manifest %s: media type %q is not a manifest or index: %w", d.Digest, d.MediaType, oci.ErrUnsupported)
	}
	b, ok := g.blobs[d.Digest]
	if !ok || b.data == nil {
		data, err := oci.FetchBytes(g.ctx, g.src, g.repo, d, oci.MaxManifestBytes)
		if err != nil {
			return fmt.Errorf("reading manifest %s: %w", d.Digest, err)
		}
		b = setBlob{desc: d, data: data}
		if err := g.addBlob(b); err != nil {
			return err
		}
	}
	kids, err := oci.Children(d.MediaType, b.data)
	if err != nil {
		return fmt.Errorf("reading manifest %s: %w", d.Digest, err)
	}
	for _, c := range kids {
		switch {
		case oci.IsManifest(c.MediaType) && oci.IsIndex(d.MediaType):
			if err := g.add(c, depth+1); err != nil {
				return err
			}
		case oci.IsNonDistributable(c):
			// Non-distributable layers stay where their URLs say.
		default:
			if c.Size < 0 {
				return fmt.Errorf("manifest %s names blob %s without a size", d.Digest, c.Digest)
			}
			if err := g.addBlob(setBlob{desc: c}); err != nil {
				return err
			}
		}
	}
	g.entries = append(g.entries, v1.Descriptor{MediaType: d.MediaType, Digest: d.Digest, Size: d.Size})
	return nil
}

// addBlob records b, once; a manifest's bytes replace a bare descriptor.
func (g *setGraph) addBlob(b setBlob) error {
	if !validHex(b.desc.Digest.Algorithm, b.desc.Digest.Hex) {
		return fmt.Errorf("digest %q is not sha256 or sha512: %w", b.desc.Digest, oci.ErrUnsupported)
	}
	have, ok := g.blobs[b.desc.Digest]
	if ok && have.desc.Size != b.desc.Size {
		return fmt.Errorf("blob %s is named with sizes %d and %d: %w", b.desc.Digest, have.desc.Size, b.desc.Size, oci.ErrSizeMismatch)
	}
	if !ok || have.data == nil {
		g.blobs[b.desc.Digest] = b
	}
	return nil
}

// index returns index.json: the entries, main's first entry tagged.
func (g *setGraph) index(main v1.Hash, tags []string) ([]byte, error) {
	type entry struct {
		MediaType   types.MediaType   `json:"mediaType"`
		Digest      v1.Hash           `json:"digest"`
		Size        int64             `json:"size"`
		Annotations map[string]string `json:"annotations,omitempty"`
	}
	idx := struct {
		SchemaVersion int               `json:"schemaVersion"`
		MediaType     types.MediaType   `json:"mediaType"`
		Manifests     []entry           `json:"manifests"`
		Annotations   map[string]string `json:"annotations"`
	}{SchemaVersion: 2, MediaType: types.OCIImageIndex, Annotations: map[string]string{AnnotationMain: main.String()}}
	tagged := false
	for _, e := range g.entries {
		x := entry{MediaType: e.MediaType, Digest: e.Digest, Size: e.Size}
		if e.Digest == main && !tagged && len(tags) > 0 {
			x.Annotations = map[string]string{AnnotationTags: strings.Join(tags, ","), AnnotationRefName: tags[0]}
			tagged = true
		}
		idx.Manifests = append(idx.Manifests, x)
	}
	b, err := json.Marshal(idx)
	if err != nil {
		return nil, fmt.Errorf("encoding the index of the artifact set of %s: %w", main, err)
	}
	return b, nil
}

// copyBlob streams blob d from the source into tw, verified.
func (g *setGraph) copyBlob(tw *tar.Writer, d v1.Descriptor) error {
	name := blobPath(d.Digest)
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Size: d.Size, Mode: 0o644, ModTime: ModTime}); err != nil {
		return err
	}
	rc, err := g.src.Fetch(g.ctx, g.repo, d)
	if err != nil {
		return fmt.Errorf("fetching blob %s: %w", d.Digest, err)
	}
	defer rc.Close()
	vr, err := oci.VerifyReader(rc, d)
	if err != nil {
		return fmt.Errorf("fetching blob %s: %w", d.Digest, err)
	}
	if err := copyCtx(g.ctx, tw, vr); err != nil {
		return fmt.Errorf("copying blob %s: %w", d.Digest, err)
	}
	return nil
}

// digestWriter counts and hashes what it passes on.
type digestWriter struct {
	w io.Writer
	h hash.Hash
	n int64
}

func (d *digestWriter) Write(p []byte) (int, error) {
	n, err := d.w.Write(p)
	d.h.Write(p[:n])
	d.n += int64(n)
	return n, err
}

// pgzip's framing (github.com/klauspost/pgzip, which OCM compresses with),
// reproduced serially so that ferry's sets are byte-identical to OCM's.
const (
	pgzipBlockSize = 1 << 20 // input per deflate block
	pgzipTailSize  = 16 << 10
)

// pgzipWriter writes a gzip stream as pgzip's Writer at its default level
// does: a header with the modification time of the zero time.Time (pgzip
// writes uint32(ModTime.Unix()) even when unset), XFL 0 and OS 255; then
// the input cut into pgzipBlockSize blocks, each deflated on its own with
// the last pgzipTailSize bytes of the block before as dictionary and
// finished with a sync flush, the last one (possibly empty) also closed;
// then CRC-32 and size. Memory is one block.
type pgzipWriter struct {
	w       io.Writer
	fw      *flate.Writer
	out     bytes.Buffer
	block   []byte
	tail    []byte
	crc     uint32
	size    uint32
	started bool
	err     error
}

func newPgzipWriter(w io.Writer) *pgzipWriter {
	return &pgzipWriter{w: w, block: make([]byte, 0, pgzipBlockSize)}
}

func (z *pgzipWriter) Write(p []byte) (int, error) {
	if z.err != nil {
		return 0, z.err
	}
	if !z.started {
		z.started = true
		var h [10]byte
		h[0], h[1], h[2] = 0x1f, 0x8b, 8
		binary.LittleEndian.PutUint32(h[4:8], uint32(time.Time{}.Unix()))
		h[9] = 255
		if _, z.err = z.w.Write(h[:]); z.err != nil {
			return 0, z.err
		}
	}
	n := len(p)
	z.crc = crc32.Update(z.crc, crc32.IEEETable, p)
	z.size += uint32(n)
	for len(p) > 0 {
		k := min(len(p), pgzipBlockSize-len(z.block))
		z.block = append(z.block, p[:k]...)
		p = p[k:]
		if len(z.block) == pgzipBlockSize {
			if z.err = z.deflate(false); z.err != nil {
				return n - len(p), z.err
			}
		}
	}
	return n, nil
}

// deflate compresses the current block and writes it out.
func (z *pgzipWriter) deflate(last bool) error {
	z.out.Reset()
	if z.fw == nil {
		fw, err := flate.NewWriterDict(&z.out, flate.DefaultCompression, nil)
		if err != nil {
			return err
		}
		z.fw = fw
	}
	var dict []byte
	if len(z.tail) > 0 {
		dict = z.tail
	}
	z.fw.ResetDict(&z.out, dict)
	if _, err := z.fw.Write(z.block); err != nil {
		return err
	}
	if err := z.fw.Flush(); err != nil {
		return err
	}
	if last {
		if err := z.fw.Close(); err != nil {
			return err
		}
	}
	if len(z.block) > pgzipTailSize {
		z.tail = append(z.tail[:0], z.block[len(z.block)-pgzipTailSize:]...)
	} else {
		z.tail = z.tail[:0]
	}
	z.block = z.block[:0]
	_, err := z.w.Write(z.out.Bytes())
	return err
}

// Close writes the last block and the trailer; it does not close the
// underlying writer.
func (z *pgzipWriter) Close() error {
	if z.err != nil {
		return z.err
	}
	if !z.started {
		if _, err := z.Write(nil); err != nil {
			return err
		}
	}
	if z.err = z.deflate(true); z.err != nil {
		return z.err
	}
	var t [8]byte
	binary.LittleEndian.PutUint32(t[0:4], z.crc)
	binary.LittleEndian.PutUint32(t[4:8], z.size)
	_, z.err = z.w.Write(t[:])
	if z.err != nil {
		return z.err
	}
	z.err = errWriterClosed
	return nil
}

var errWriterClosed = errors.New("write to a closed artifact set")
