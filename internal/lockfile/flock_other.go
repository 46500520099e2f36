//go:build !unix

package lockfile

import (
	"errors"
	"io/fs"
	"os"
	"strconv"
)

// try creates lock file p exclusively. Without flock the file outlives a
// killed holder: remove it by hand then.
func try(p string) (*Lock, error) {
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return nil, ErrLocked
	}
	if err != nil {
		return nil, err
	}
	if _, err := f.WriteString(strconv.Itoa(os.Getpid()) + "\n"); err != nil {
		f.Close()
		os.Remove(p)
		return nil, err
	}
	return &Lock{f: f, path: p}, nil
}
