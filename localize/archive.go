package localize

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"testing/fstest"
)

// ErrUnsafeArchive: an archive or tree holds an entry that ferry will not
// unpack: a path that is absolute or leaves the tree, a link, a device, a
// duplicate, or more bytes or entries than the limits allow.
var ErrUnsafeArchive = errors.New("unsafe archive")

// Files is a tree of files held in memory, by clean slash path
// ("manifests/deploy.yaml"). Directories are implied by the paths.
type Files map[string][]byte

// FS returns the files as an fs.FS (regular files 0644, directories 0755).
func (f Files) FS() fs.FS {
	m := fstest.MapFS{}
	for p, b := range f {
		m[p] = &fstest.MapFile{Data: b, Mode: 0o644}
	}
	return m
}

// Names returns the paths, sorted.
func (f Files) Names() []string {
	names := make([]string, 0, len(f))
	for p := range f {
		names = append(names, p)
	}
	sort.Strings(names)
	return names
}

// Limits bound what ReadArchive and ReadFS accept. Zero fields take the
// defaults.
type Limits struct {
	MaxFiles     int   // most files; default 20,000
	MaxFileSize  int64 // largest file; default 64 MiB
	MaxTotalSize int64 // all files together, uncompressed; default 512 MiB
}

func (l Limits) withDefaults() Limits {
	if l.MaxFiles <= 0 {
		l.MaxFiles = 20000
	}
	if l.MaxFileSize <= 0 {
		l.MaxFileSize = 64 << 20
	}
	if l.MaxTotalSize <= 0 {
		l.MaxTotalSize = 512 << 20
	}
	return l
}

// ReadArchive reads a tar archive, gzip-compressed or not (told by its first
// bytes), into memory. Archives are untrusted: entry names must be relative
// and stay inside the tree ("./" prefixes are dropped), only regular files
// and directories are accepted (links, devices and FIFOs fail), a path may
// not appear twice nor be both a file and a directory, and the sizes and
// counts of l bound the uncompressed content, which cuts off gzip and tar
// bombs. Errors wrap ErrUnsafeArchive when an entry is refused.
func ReadArchive(r io.Reader, l Limits) (Files, error) {
	l = l.withDefaults()
	br := bufio.NewReader(r)
	var src io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("reading archive: %w", err)
		}
		defer zr.Close()
		src = zr
	}
	tr := tar.NewReader(src)
	files := Files{}
	dirs := map[string]bool{}
	var total int64
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading archive: %w", err)
		}
		name, err := entryName(h.Name)
		if err != nil {
			return nil, err
		}
		switch h.Typeflag {
		case tar.TypeDir:
			if name != "." {
				dirs[name] = true
			}
			continue
		case tar.TypeReg: // the reader reports old regular files (TypeRegA) as TypeReg
		default:
			return nil, fmt.Errorf("reading archive: entry %q: %w: type %q is not a regular file or directory", h.Name, ErrUnsafeArchive, h.Typeflag)
		}
		if name == "." {
			return nil, fmt.Errorf("reading archive: entry %q: %w: a file without a name", h.Name, ErrUnsafeArchive)
		}
		if _, dup := files[name]; dup {
			return nil, fmt.Errorf("reading archive: entry %q: %w: appears twice", h.Name, ErrUnsafeArchive)
		}
		if len(files) >= l.MaxFiles {
			return nil, fmt.Errorf("reading archive: %w: more than %d files", ErrUnsafeArchive, l.MaxFiles)
		}
		if h.Size < 0 || h.Size > l.MaxFileSize {
			return nil, fmt.Errorf("reading archive: entry %q: %w: %d bytes, more than %d", h.Name, ErrUnsafeArchive, h.Size, l.MaxFileSize)
		}
		total += h.Size
		if total > l.MaxTotalSize {
			return nil, fmt.Errorf("reading archive: %w: more than %d bytes", ErrUnsafeArchive, l.MaxTotalSize)
		}
		b := make([]byte, h.Size)
		if _, err := io.ReadFull(tr, b); err != nil {
			return nil, fmt.Errorf("reading archive: entry %q: %w", h.Name, err)
		}
		files[name] = b
	}
	if err := checkTree(files, dirs); err != nil {
		return nil, fmt.Errorf("reading archive: %w", err)
	}
	return files, nil
}

// entryName cleans a tar entry name and refuses those that leave the tree.
func entryName(n string) (string, error) {
	bad := func(why string) (string, error) {
		return "", fmt.Errorf("reading archive: entry %q: %w: %s", n, ErrUnsafeArchive, why)
	}
	if n == "" || strings.ContainsRune(n, 0) {
		return bad("empty name")
	}
	if strings.Contains(n, `\`) {
		return bad("backslash in name")
	}
	if strings.HasPrefix(n, "/") {
		return bad("absolute path")
	}
	for _, el := range strings.Split(n, "/") {
		if el == ".." {
			return bad("path leaves the tree")
		}
	}
	c := path.Clean(n)
	if !fs.ValidPath(c) {
		return bad("invalid path")
	}
	return c, nil
}

// checkTree refuses a path that is a file and also the parent of another.
func checkTree(files Files, dirs map[string]bool) error {
	for p := range files {
		if dirs[p] {
			return fmt.Errorf("%q: %w: both a file and a directory", p, ErrUnsafeArchive)
		}
		for d := path.Dir(p); d != "."; d = path.Dir(d) {
			if _, ok := files[d]; ok {
				return fmt.Errorf("%q: %w: its parent %q is a file", p, ErrUnsafeArchive, d)
			}
		}
	}
	return nil
}

// ReadFS reads every regular file of fsys into memory, bounded by l. A
// symbolic link or another irregular file fails with ErrUnsafeArchive: the
// tree is published as it is read, and links are what archives must not
// carry.
func ReadFS(fsys fs.FS, l Limits) (Files, error) {
	if f, ok := fsys.(Files); ok {
		return f, nil
	}
	l = l.withDefaults()
	files := Files{}
	var total int64
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		if !d.Type().IsRegular() {
			return fmt.Errorf("%s: %w: not a regular file (%s)", p, ErrUnsafeArchive, d.Type())
		}
		if len(files) >= l.MaxFiles {
			return fmt.Errorf("%w: more than %d files", ErrUnsafeArchive, l.MaxFiles)
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		if int64(len(b)) > l.MaxFileSize {
			return fmt.Errorf("%s: %w: %d bytes, more than %d", p, ErrUnsafeArchive, len(b), l.MaxFileSize)
		}
		total += int64(len(b))
		if total > l.MaxTotalSize {
			return fmt.Errorf("%w: more than %d bytes", ErrUnsafeArchive, l.MaxTotalSize)
		}
		files[p] = b
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading manifests: %w", err)
	}
	return files, nil
}

// Open implements fs.FS, so Files can be passed where a tree is expected.
func (f Files) Open(name string) (fs.File, error) { return f.FS().Open(name) }

// WriteFiles writes files below dir (created when missing) as 0644 files in
// 0755 directories. Writes go through an os.Root, so a symbolic link already
// in dir cannot lead them outside it. Existing files are replaced.
func WriteFiles(dir string, files Files) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("writing %s: %w", dir, err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return fmt.Errorf("writing %s: %w", dir, err)
	}
	defer root.Close()
	for _, p := range files.Names() {
		if !fs.ValidPath(p) || p == "." {
			return fmt.Errorf("writing %s: %q: %w: invalid path", dir, p, ErrUnsafeArchive)
		}
		if d := path.Dir(p); d != "." {
			if err := root.MkdirAll(d, 0o755); err != nil {
				return fmt.Errorf("writing %s: %w", filepath.Join(dir, p), err)
			}
		}
		if err := root.WriteFile(p, files[p], 0o644); err != nil {
			return fmt.Errorf("writing %s: %w", filepath.Join(dir, p), err)
		}
	}
	return nil
}
