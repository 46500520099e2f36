package bundle

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/ferry-oci/ferry/internal/exitcode"
)

// Errors about the files of a bundle. They come wrapped in a *DamageError
// that names the file and the offset.
var (
	// ErrMissingVolume: a volume of a split bundle is not there.
	ErrMissingVolume = errors.New("volume missing")
	// ErrVolumeSize: a volume is shorter or longer than the others say it
	// must be (truncated, or a different bundle's).
	ErrVolumeSize = errors.New("volume has the wrong size")
	// ErrChecksum: a file does not hash to what the sidecar lists (damaged, or
	// volumes swapped).
	ErrChecksum = errors.New("checksum does not match the sidecar")
)

// DamageError says where a bundle is damaged: the file (a volume, or the
// bundle itself), the offset in that file (-1 when not known), and the
// entry there when there is one.
type DamageError struct {
	File   string
	Offset int64
	Entry  string
	Err    error
}

func (e *DamageError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Offset >= 0 {
		fmt.Fprintf(&b, " at offset %d", e.Offset)
	}
	if e.Entry != "" {
		b.WriteString(" (")
		b.WriteString(e.Entry)
		b.WriteString(")")
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *DamageError) Unwrap() error { return e.Err }

// Is makes every DamageError damaged input for the exit code (4).
func (e *DamageError) Is(target error) bool { return target == exitcode.Damaged }

// Volume is one file of a bundle.
type Volume struct {
	Path string `json:"path"`
	Size int64  `json:"size"`
}

// volumeNames returns the file names of a bundle of total bytes at path cut
// into volumes of size bytes (0: one file, path itself). Numbers have at
// least three digits, all the same width, so that `cat FILE.[0-9]*` takes them in
// order.
func volumeNames(path string, total, size int64) []string {
	if size <= 0 {
		return []string{path}
	}
	n := max(1, int((total+size-1)/size))
	width := max(3, len(strconv.Itoa(n-1)))
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s.%0*d", path, width, i)
	}
	return out
}

// volumeSizes returns each volume's length.
func volumeSizes(total, size int64, n int) []int64 {
	out := make([]int64, n)
	for i := range out {
		if size <= 0 {
			out[i] = total
			continue
		}
		out[i] = min(size, total-int64(i)*size)
	}
	return out
}

// volumeSet is the files of a bundle as one address space.
type volumeSet struct {
	files  []*os.File
	names  []string
	sizes  []int64
	starts []int64
	total  int64
}

func newVolumeSet(files []*os.File, names []string, sizes []int64) *volumeSet {
	v := &volumeSet{files: files, names: names, sizes: sizes}
	for _, s := range sizes {
		v.starts = append(v.starts, v.total)
		v.total += s
	}
	return v
}

// locate returns the volume holding offset off and the offset inside it.
func (v *volumeSet) locate(off int64) (int, int64) {
	i := sort.Search(len(v.starts), func(i int) bool { return v.starts[i] > off }) - 1
	if i < 0 {
		i = 0
	}
	return i, off - v.starts[i]
}

// ReadAt reads across volume boundaries.
func (v *volumeSet) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("bundle: negative offset %d", off)
	}
	n := 0
	for len(p) > 0 {
		if off >= v.total {
			return n, io.EOF
		}
		i, in := v.locate(off)
		m := int(min(int64(len(p)), v.sizes[i]-in))
		k, err := v.files[i].ReadAt(p[:m], in)
		n += k
		if err != nil && !(err == io.EOF && k == m) {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF // the file shrank under us
			}
			return n, err
		}
		p, off = p[m:], off+int64(m)
	}
	return n, nil
}

// WriteAt writes across volume boundaries.
func (v *volumeSet) WriteAt(p []byte, off int64) (int, error) {
	if off < 0 || off+int64(len(p)) > v.total {
		return 0, fmt.Errorf("bundle: write of %d bytes at %d outside the %d-byte bundle", len(p), off, v.total)
	}
	n := 0
	for len(p) > 0 {
		i, in := v.locate(off)
		m := int(min(int64(len(p)), v.sizes[i]-in))
		k, err := v.files[i].WriteAt(p[:m], in)
		n += k
		if err != nil {
			return n, err
		}
		p, off = p[m:], off+int64(m)
	}
	return n, nil
}

// startWriteback hands the bundle's bytes [off, off+n) to startWriteback,
// volume by volume.
func (v *volumeSet) startWriteback(off, n int64) {
	for n > 0 {
		i, in := v.locate(off)
		m := min(n, v.sizes[i]-in)
		startWriteback(v.files[i], in, m)
		off, n = off+m, n-m
	}
}

func (v *volumeSet) sync() error {
	for _, f := range v.files {
		if err := f.Sync(); err != nil {
			return err
		}
	}
	return nil
}

func (v *volumeSet) Close() error {
	var errs []error
	for _, f := range v.files {
		errs = append(errs, f.Close())
	}
	return errors.Join(errs...)
}

// damage names the volume and offset of a bundle offset.
func (v *volumeSet) damage(off int64, entry string, err error) *DamageError {
	if off < 0 || len(v.names) == 0 {
		return &DamageError{File: v.names[0], Offset: -1, Entry: entry, Err: err}
	}
	i, in := v.locate(off)
	return &DamageError{File: v.names[i], Offset: in, Entry: entry, Err: err}
}

var volumeSuffix = regexp.MustCompile(`\.([0-9]{3,})$`)

// findVolumes finds the files of the bundle path names: the file itself, or
// (for FILE when FILE.000 exists, or for FILE.000 itself) the numbered
// volumes, which must be consecutive and of one width. It returns the base
// name (FILE) and the volumes in order.
func findVolumes(path string) (string, []string, error) {
	base := path
	if m := volumeSuffix.FindStringSubmatch(path); m != nil {
		base = strings.TrimSuffix(path, "."+m[1])
	} else if fi, err := os.Stat(path); err == nil {
		if fi.IsDir() {
			return path, nil, nil // a CTF directory
		}
		return path, []string{path}, nil
	}
	des, err := os.ReadDir(filepath.Dir(base))
	if err != nil {
		return "", nil, fmt.Errorf("opening bundle %s: %w", path, err)
	}
	prefix := filepath.Base(base) + "."
	nums := map[int]string{}
	width := 0
	for _, de := range des {
		rest, ok := strings.CutPrefix(de.Name(), prefix)
		if !ok || len(rest) < 3 || strings.Trim(rest, "0123456789") != "" {
			continue
		}
		if width == 0 || len(rest) == width {
			width = len(rest)
		} else {
			return "", nil, fmt.Errorf("opening bundle %s: volume numbers of different widths (%s)", path, de.Name())
		}
		i, _ := strconv.Atoi(rest)
		nums[i] = filepath.Join(filepath.Dir(base), de.Name())
	}
	if len(nums) == 0 {
		return "", nil, fmt.Errorf("opening bundle %s: %w", path, fs.ErrNotExist)
	}
	var out []string
	for i := 0; i < len(nums); i++ {
		p, ok := nums[i]
		if !ok {
			missing := fmt.Sprintf("%s.%0*d", base, width, i)
			return "", nil, &DamageError{File: missing, Offset: -1, Err: fmt.Errorf("%w: %d volumes found, numbered up to %d", ErrMissingVolume, len(nums), maxKey(nums))}
		}
		out = append(out, p)
	}
	return base, out, nil
}

func maxKey(m map[int]string) int {
	k := 0
	for i := range m {
		k = max(k, i)
	}
	return k
}

// sidecarLine is one line of FILE.sha256: a volume's sha256 and its name.
type sidecarLine struct {
	Sum  string
	Name string // relative to the sidecar's directory
}

// readSidecar reads a sha256sum file; nil, nil when there is none.
func readSidecar(path string) ([]sidecarLine, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return parseSidecar(b)
}

func parseSidecar(b []byte) ([]sidecarLine, error) {
	var out []sidecarLine
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" {
			continue
		}
		sum, name, ok := strings.Cut(line, "  ")
		if !ok {
			sum, name, ok = strings.Cut(line, " *")
		}
		if _, err := hex.DecodeString(sum); !ok || err != nil || len(sum) != 64 || name == "" || strings.ContainsAny(name, "/\\") {
			return nil, fmt.Errorf("line %d is not '<sha256>  <file name>'", n)
		}
		out = append(out, sidecarLine{Sum: sum, Name: name})
	}
	return out, sc.Err()
}

func formatSidecar(lines []sidecarLine) []byte {
	var b bytes.Buffer
	for _, l := range lines {
		fmt.Fprintf(&b, "%s  %s\n", l.Sum, l.Name)
	}
	return b.Bytes()
}

// hashFile returns the sha256 of f's first size bytes.
func hashFile(f io.ReaderAt, size int64) (string, error) {
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(f, 0, size)); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// ParseSize reads a volume size: a byte count with an optional unit: KB, MB, GB, TB (powers
// of 1000), KiB, MiB, GiB, TiB (powers of 1024).
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	units := []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
		{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"B", 1}}
	mult := int64(1)
	for _, u := range units {
		if rest, ok := strings.CutSuffix(t, u.suffix); ok {
			t, mult = strings.TrimSpace(rest), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n <= 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("size %q: want a positive number of bytes, optionally with KB, MB, GB, KiB, MiB or GiB", s)
	}
	return n * mult, nil
}
