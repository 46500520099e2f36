package testimage

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"sync"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// MaxLayerSize is the largest Layer.Size: the largest file a USTAR header
// can describe (8 GiB - 1).
const MaxLayerSize = 1<<33 - 1

// ModTime is the modification time of every file in every layer, and the
// creation time written in every image config.
var ModTime = time.Date(2020, time.January, 1, 0, 0, 0, 0, time.UTC)

// Layer is an image layer: a gzip'd tar holding one regular file of Size
// bytes drawn from a ChaCha8 stream keyed by Seed and Size. Two Layers with
// the same Seed and Size have the same bytes; any other two differ.
//
// The tar entry is "data/<seed as 16 hex digits>-<size>.bin", mode 0644,
// owned by 0:0, modified at ModTime, in USTAR format. The gzip stream has a
// fixed header (no name, no mtime, OS "unknown") and deflate stored blocks
// of at most 65535 bytes.
//
// Layer is a small value: its bytes are generated each time Open is called
// and never kept. Descriptor and DiffID hash them once per process and
// remember the result.
type Layer struct {
	Seed uint64
	Size int64 // bytes of the file in the tar, 0 to MaxLayerSize
}

// errLayerSize is returned for a Size outside 0..MaxLayerSize.
var errLayerSize = errors.New("layer size out of range")

func (l Layer) check() error {
	if l.Size < 0 || l.Size > MaxLayerSize {
		return fmt.Errorf("layer %016x: size %d: %w (0 to %d)", l.Seed, l.Size, errLayerSize, int64(MaxLayerSize))
	}
	return nil
}

// TarSize returns the size of the layer's uncompressed tar.
func (l Layer) TarSize() int64 {
	return tarBlock + roundUp(l.Size, tarBlock) + 2*tarBlock
}

// CompressedSize returns the size of the layer's gzip stream, the size in its
// descriptor, computed without generating it.
func (l Layer) CompressedSize() int64 {
	t := l.TarSize()
	return gzipHeaderSize + t + storedBlockHeader*(t/maxStoredBlock+1) + gzipTrailerSize
}

func roundUp(n, to int64) int64 { return (n + to - 1) / to * to }

const tarBlock = 512

// Open returns a reader of the layer's compressed bytes (its blob). The
// caller closes it. Reading fails when Size is out of range.
func (l Layer) Open() io.ReadCloser {
	return newLayerReader(l, nil)
}

// Descriptor returns the layer's descriptor, with the OCI gzip layer media
// type. The first call for a given Layer in a process generates and hashes
// its bytes; later calls return the remembered result.
func (l Layer) Descriptor() (v1.Descriptor, error) {
	s, err := l.sums()
	if err != nil {
		return v1.Descriptor{}, err
	}
	return v1.Descriptor{MediaType: types.OCILayer, Size: l.CompressedSize(), Digest: s.digest}, nil
}

// DiffID returns the sha256 of the layer's uncompressed tar, the layer's
// entry in an image config's rootfs.diff_ids. It is computed with the
// descriptor, once per process.
func (l Layer) DiffID() (v1.Hash, error) {
	s, err := l.sums()
	if err != nil {
		return v1.Hash{}, err
	}
	return s.diffID, nil
}

type layerSums struct {
	digest, diffID v1.Hash
}

type memoEntry struct {
	once sync.Once
	sums layerSums
	err  error
}

// memo maps a Layer to its *memoEntry. Entries are a few hundred bytes; a
// process makes at most a few thousand layers.
var memo sync.Map

func (l Layer) sums() (layerSums, error) {
	if err := l.check(); err != nil {
		return layerSums{}, err
	}
	v, _ := memo.LoadOrStore(l, &memoEntry{})
	e := v.(*memoEntry)
	e.once.Do(func() { e.sums, e.err = l.hash() })
	return e.sums, e.err
}

func (l Layer) hash() (layerSums, error) {
	diff := sha256.New()
	r := newLayerReader(l, diff)
	defer r.Close()
	blob := sha256.New()
	n, err := io.Copy(blob, r)
	if err != nil {
		return layerSums{}, fmt.Errorf("hashing layer %016x: %w", l.Seed, err)
	}
	if n != l.CompressedSize() {
		return layerSums{}, fmt.Errorf("hashing layer %016x: generated %d bytes, want %d", l.Seed, n, l.CompressedSize())
	}
	return layerSums{digest: sum(blob), diffID: sum(diff)}, nil
}

func sum(h hash.Hash) v1.Hash {
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(h.Sum(nil))}
}

// key returns the ChaCha8 key of the layer's content.
func (l Layer) key() [32]byte {
	var b [len("ferry/testimage/layer/v1") + 16]byte
	n := copy(b[:], "ferry/testimage/layer/v1")
	binary.LittleEndian.PutUint64(b[n:], l.Seed)
	binary.LittleEndian.PutUint64(b[n+8:], uint64(l.Size))
	return sha256.Sum256(b[:])
}

func (l Layer) header() *tar.Header {
	return &tar.Header{
		Typeflag: tar.TypeReg,
		Name:     fmt.Sprintf("data/%016x-%d.bin", l.Seed, l.Size),
		Mode:     0o644,
		Size:     l.Size,
		ModTime:  ModTime,
		Format:   tar.FormatUSTAR,
	}
}

// chunkSize is how much file content a layerReader generates at a time.
const chunkSize = 64 << 10

// layerReader generates a layer's blob on demand: each refill pulls the next
// chunk of ChaCha8 bytes through a tar.Writer and a storedWriter into out.
// Memory stays at a few chunks whatever the layer's size.
type layerReader struct {
	l       Layer
	rng     *rand.ChaCha8
	tw      *tar.Writer
	gz      *storedWriter
	tee     *teeWriter
	out     bytes.Buffer
	chunk   []byte
	left    int64 // file bytes still to generate
	started bool
	done    bool
	err     error // sticky
}

func newLayerReader(l Layer, diff hash.Hash) *layerReader {
	r := &layerReader{l: l, left: l.Size}
	if r.err = l.check(); r.err != nil {
		return r
	}
	r.gz = newStoredWriter(&r.out)
	r.tee = &teeWriter{w: r.gz, h: diff}
	r.tw = tar.NewWriter(r.tee)
	r.rng = rand.NewChaCha8(l.key())
	return r
}

func (r *layerReader) Read(p []byte) (int, error) {
	for r.out.Len() == 0 {
		if r.err != nil {
			return 0, r.err
		}
		if r.done {
			return 0, io.EOF
		}
		r.err = r.refill()
	}
	return r.out.Read(p)
}

// refill moves the layer one step on: the tar header, a chunk of the file,
// or the tar and gzip trailers.
func (r *layerReader) refill() error {
	switch {
	case !r.started:
		r.started = true
		return r.tw.WriteHeader(r.l.header())
	case r.left > 0:
		if r.chunk == nil {
			r.chunk = make([]byte, min(chunkSize, r.left))
		}
		c := r.chunk[:min(int64(len(r.chunk)), r.left)]
		_, _ = r.rng.Read(c) // never fails
		r.left -= int64(len(c))
		_, err := r.tw.Write(c)
		return err
	default:
		r.done = true
		if err := r.tw.Close(); err != nil {
			return err
		}
		return r.gz.Close()
	}
}

func (r *layerReader) Close() error {
	r.err = errors.New("read after close")
	r.out = bytes.Buffer{}
	r.chunk = nil
	return nil
}

// teeWriter writes to w and, when h is set, hashes what it writes.
type teeWriter struct {
	w io.Writer
	h hash.Hash
}

func (t *teeWriter) Write(p []byte) (int, error) {
	if t.h != nil {
		t.h.Write(p)
	}
	return t.w.Write(p)
}

// The gzip format (RFC 1952) around deflate stored blocks (RFC 1951 3.2.4).
const (
	gzipHeaderSize    = 10
	gzipTrailerSize   = 8 // CRC-32 and size mod 2^32, little endian
	storedBlockHeader = 5 // BFINAL/BTYPE byte (byte aligned), LEN, NLEN
	maxStoredBlock    = 65535
)

// gzipHeader: magic, CM=deflate, no flags, MTIME=0, XFL=0, OS=255 (unknown).
var gzipHeader = [gzipHeaderSize]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff}

// storedWriter writes a gzip stream of deflate stored blocks: a block each
// time maxStoredBlock bytes are buffered, and at Close a final block with
// the rest (possibly empty). So the output depends on the input alone, not
// on how it was split into writes.
type storedWriter struct {
	w     io.Writer
	buf   []byte
	crc   uint32
	n     uint32 // input size mod 2^32
	wrote bool
}

func newStoredWriter(w io.Writer) *storedWriter {
	return &storedWriter{w: w, buf: make([]byte, storedBlockHeader, storedBlockHeader+maxStoredBlock)}
}

func (z *storedWriter) Write(p []byte) (int, error) {
	if !z.wrote {
		z.wrote = true
		if _, err := z.w.Write(gzipHeader[:]); err != nil {
			return 0, err
		}
	}
	z.crc = crc32.Update(z.crc, crc32.IEEETable, p)
	z.n += uint32(len(p))
	total := len(p)
	for len(p) > 0 {
		k := copy(z.buf[len(z.buf):cap(z.buf)], p)
		z.buf = z.buf[:len(z.buf)+k]
		p = p[k:]
		if len(z.buf) == cap(z.buf) {
			if err := z.flush(false); err != nil {
				return total - len(p), err
			}
		}
	}
	return total, nil
}

func (z *storedWriter) flush(final bool) error {
	n := len(z.buf) - storedBlockHeader
	z.buf[0] = 0
	if final {
		z.buf[0] = 1
	}
	binary.LittleEndian.PutUint16(z.buf[1:], uint16(n))
	binary.LittleEndian.PutUint16(z.buf[3:], ^uint16(n))
	_, err := z.w.Write(z.buf)
	z.buf = z.buf[:storedBlockHeader]
	return err
}

// Close writes the final block and the gzip trailer.
func (z *storedWriter) Close() error {
	if _, err := z.Write(nil); err != nil { // the header, for empty input
		return err
	}
	if err := z.flush(true); err != nil {
		return err
	}
	var t [gzipTrailerSize]byte
	binary.LittleEndian.PutUint32(t[:], z.crc)
	binary.LittleEndian.PutUint32(t[4:], z.n)
	_, err := z.w.Write(t[:])
	return err
}
