package bundle

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/ferry-oci/ferry/internal/human"
)

// reserve gives the new, empty volumes their sizes, allocating their blocks
// now where the file system can (fallocate). A disk too small for the
// bundle then fails here, before a byte is fetched, not after most of the
// download; and the writes that follow fill blocks already allocated, which
// costs the kernel less than allocating them page by page. File systems
// without fallocate get sparse files.
func reserve(files []*os.File, sizes []int64) error {
	for i, f := range files {
		if sizes[i] == 0 {
			continue
		}
		err := unix.Fallocate(int(f.Fd()), 0, 0, sizes[i])
		switch {
		case err == nil:
			continue
		case errors.Is(err, unix.EOPNOTSUPP), errors.Is(err, unix.ENOSYS), errors.Is(err, unix.EINVAL):
			err = f.Truncate(sizes[i]) // no fallocate here: a sparse file
		case errors.Is(err, unix.ENOSPC), errors.Is(err, unix.EDQUOT):
			return noSpace(files, sizes, err)
		default:
			err = &os.PathError{Op: "fallocate", Path: f.Name(), Err: err}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// noSpace frees what the volumes got of the disk and says how much the
// bundle needs and how much is free.
func noSpace(files []*os.File, sizes []int64, cause error) error {
	var need int64
	for i, f := range files {
		f.Truncate(0)
		need += sizes[i]
	}
	dir := filepath.Dir(files[0].Name())
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return fmt.Errorf("%w: it needs %s in %s: %w", ErrNoSpace, human.Bytes(need), dir, cause)
	}
	return fmt.Errorf("%w: it needs %s, %s has %s free: %w", ErrNoSpace, human.Bytes(need), dir, human.Bytes(int64(st.Bavail)*st.Bsize), cause)
}
