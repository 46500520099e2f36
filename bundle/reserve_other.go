//go:build !linux

package bundle

import "os"

// reserve gives the new, empty volumes their sizes: sparse files where
// fallocate does not exist.
func reserve(files []*os.File, sizes []int64) error {
	for i, f := range files {
		if err := f.Truncate(sizes[i]); err != nil {
			return err
		}
	}
	return nil
}
