// Package atomicfile writes files that appear whole or not at all.
package atomicfile

import (
	"io"
	"os"
	"path/filepath"
)

// Write writes r to path through a temporary file in the same directory,
// renamed into place only when complete and synced. The file gets mode
// 0644, as a file the user writes. It returns the bytes written.
func Write(path string, r io.Reader) (int64, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".ferry-*")
	if err != nil {
		return 0, err
	}
	err = f.Chmod(0o644) // CreateTemp makes it private
	var n int64
	if err == nil {
		n, err = io.Copy(f, r)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return n, err
	}
	return n, nil
}
