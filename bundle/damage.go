package bundle

import (
	"context"
	"errors"

	"github.com/ferry-oci/ferry/ctf"
	"github.com/ferry-oci/ferry/oci"
)

// IsDamage reports whether err says that a bundle's bytes are damaged: a
// digest or size that does not match, a checksum that does not match the
// sidecar, a volume missing or of the wrong size, or an entry that is not
// well formed. An interrupted read (a cancelled context) is never damage,
// whatever else the error says: the same command run again resumes.
func IsDamage(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	for _, e := range []error{
		oci.ErrDigestMismatch, oci.ErrSizeMismatch,
		ErrChecksum, ErrMissingVolume, ErrVolumeSize, ErrStrayBytes, ErrInvalidMetadata,
		ctf.ErrUnsafeName, ctf.ErrEntryType, ctf.ErrDuplicateEntry, ctf.ErrTruncated, ctf.ErrInvalidIndex,
	} {
		if errors.Is(err, e) {
			return true
		}
	}
	var de *DamageError
	return errors.As(err, &de)
}
