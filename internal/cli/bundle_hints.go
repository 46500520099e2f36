package cli

import (
	"errors"
	"io/fs"

	"github.com/ferry-oci/ferry/internal/exitcode"
)

// bundleHint says what to do about an error opening or checking the bundle
// file: a file that is not there is not a damaged bundle.
func bundleHint(err error, file string) error {
	switch {
	case errors.Is(err, fs.ErrNotExist) && !errors.Is(err, exitcode.Damaged):
		return withHint(err, "there is no bundle %s (nor volumes %s.000, …): check the path and the current directory", file, file)
	case errors.Is(err, exitcode.Damaged):
		return withHint(err, "the bundle is damaged: bring the file (or the volume named) again and run 'ferry bundle verify %s'; do not import it", file)
	}
	return err
}
