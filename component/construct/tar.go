package construct

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"time"
)

// tarEpoch is the modification time of every entry of a dir input's tar
// (OCM's own normalised headers use the same, tarutils.Epoch).
var tarEpoch = time.Unix(0, 0)

// dirTar packs a dir input the way OCM v1 does (tarutils.PackFsIntoTar):
// depth first, the entries of each directory sorted by name, directories as
// entries of their own (named without a trailing slash, as OCM writes them),
// the input directory itself only with PreserveDir (then every name starts
// with its base name). Include and exclude patterns are shell patterns
// (path.Match) on the path relative to the input directory and apply to
// directories too, so a directory that an include list does not match is
// left out with all it holds (OCM's behaviour). Unlike OCM, the headers are
// normalised so that the same files give the same bytes on any machine:
// mtime 1970-01-01T00:00:00Z, uid/gid 0, no user or group names, mode 0644
// for files (0755 when any execute bit is set), 0755 for directories and
// 0777 for symbolic links. Symbolic links are stored as links, or with
// FollowSymlinks replaced by what they point to (a loop is an error).
// Sockets, devices and pipes are errors.
type dirTar struct {
	root string
	in   *Input
}

func (d dirTar) write(ctx context.Context, w io.Writer) error {
	tw := tar.NewWriter(w)
	prefix := ""
	if d.in.PreserveDir {
		prefix = filepath.Base(d.root)
		if err := tw.WriteHeader(d.header(tar.TypeDir, prefix, 0, 0)); err != nil {
			return err
		}
	}
	real, err := filepath.EvalSymlinks(d.root)
	if err != nil {
		return err
	}
	if err := d.walk(ctx, tw, d.root, "", prefix, map[string]bool{real: true}); err != nil {
		return err
	}
	return tw.Close()
}

func (d dirTar) header(typ byte, name string, mode fs.FileMode, size int64) *tar.Header {
	h := &tar.Header{Typeflag: typ, Name: name, Size: size, ModTime: tarEpoch, Format: tar.FormatUnknown}
	switch typ {
	case tar.TypeDir:
		h.Mode = 0o755
	case tar.TypeSymlink:
		h.Mode = 0o777
	default:
		h.Mode = 0o644
		if mode&0o111 != 0 {
			h.Mode = 0o755
		}
	}
	return h
}

// included reports whether rel (slash separated, relative to the input
// directory) goes into the tar.
func (d dirTar) included(rel string) bool {
	for _, p := range d.in.ExcludeFiles {
		if ok, _ := path.Match(p, rel); ok {
			return false
		}
	}
	if len(d.in.IncludeFiles) == 0 {
		return true
	}
	for _, p := range d.in.IncludeFiles {
		if ok, _ := path.Match(p, rel); ok {
			return true
		}
	}
	return false
}

func (d dirTar) walk(ctx context.Context, tw *tar.Writer, dir, rel, prefix string, open map[string]bool) error {
	entries, err := os.ReadDir(dir) // sorted by name
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return err
		}
		r := path.Join(rel, e.Name())
		if !d.included(r) {
			continue
		}
		if err := d.add(ctx, tw, filepath.Join(dir, e.Name()), r, prefix, open); err != nil {
			return err
		}
	}
	return nil
}

func (d dirTar) add(ctx context.Context, tw *tar.Writer, file, rel, prefix string, open map[string]bool) error {
	name := path.Join(prefix, rel)
	fi, err := os.Lstat(file)
	if err != nil {
		return err
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		if !d.in.FollowSymlinks {
			target, err := os.Readlink(file)
			if err != nil {
				return err
			}
			h := d.header(tar.TypeSymlink, name, 0, 0)
			h.Linkname = target
			return tw.WriteHeader(h)
		}
		if file, err = filepath.EvalSymlinks(file); err != nil {
			return fmt.Errorf("following symbolic link %s: %w", name, err)
		}
		if fi, err = os.Stat(file); err != nil {
			return err
		}
	}
	switch {
	case fi.IsDir():
		real, err := filepath.EvalSymlinks(file)
		if err != nil {
			return err
		}
		if open[real] {
			return fmt.Errorf("%s: symbolic link loop back to %s", name, real)
		}
		if err := tw.WriteHeader(d.header(tar.TypeDir, name, 0, 0)); err != nil {
			return err
		}
		open[real] = true
		defer delete(open, real)
		return d.walk(ctx, tw, file, rel, prefix, open)
	case fi.Mode().IsRegular():
		if err := tw.WriteHeader(d.header(tar.TypeReg, name, fi.Mode(), fi.Size())); err != nil {
			return err
		}
		f, err := os.Open(file)
		if err != nil {
			return err
		}
		defer f.Close()
		n, err := io.Copy(tw, &ctxReader{ctx: ctx, r: io.LimitReader(f, fi.Size())})
		if err != nil {
			return fmt.Errorf("packing %s: %w", name, err)
		}
		if n != fi.Size() {
			return fmt.Errorf("packing %s: file shrank from %d to %d bytes while it was read", name, fi.Size(), n)
		}
		return nil
	}
	return fmt.Errorf("%s: unsupported file type %s", name, fi.Mode().Type())
}

// ctxReader stops a long copy when ctx ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
