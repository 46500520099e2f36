package ctf

import (
	"errors"
	"fmt"
)

// Errors that say why an archive was refused. Each is wrapped in an
// *EntryError naming the archive and the entry, so callers test with
// errors.Is and print the error as it is. Missing blobs wrap oci.ErrNotFound,
// content that does not match its name oci.ErrDigestMismatch, and entries
// over a limit oci.ErrTooLarge.
var (
	// ErrNotArchive: the path is neither a CTF directory nor a tar or gzip
	// compressed tar holding artifact-index.json.
	ErrNotArchive = errors.New("not a CTF archive")
	// ErrUnsafeName: an entry name is absolute, has a ".." or "." component,
	// an empty component, a backslash or a NUL byte.
	ErrUnsafeName = errors.New("unsafe entry name")
	// ErrEntryType: an entry is a symbolic link, hard link, device, FIFO,
	// sparse file or of a type ferry does not know.
	ErrEntryType = errors.New("entry type not allowed")
	// ErrDuplicateEntry: two entries have the same name.
	ErrDuplicateEntry = errors.New("duplicate entry")
	// ErrTruncated: the archive ends inside an entry.
	ErrTruncated = errors.New("archive truncated")
	// ErrInvalidIndex: artifact-index.json (or an artifact set's index.json)
	// is not valid JSON of the expected shape.
	ErrInvalidIndex = errors.New("invalid index")
	// ErrClosed: the archive was closed.
	ErrClosed = errors.New("archive closed")
)

// EntryError is a problem with one entry of an archive: an entry of a tar,
// a file of a directory, or an entry of artifact-index.json.
type EntryError struct {
	Archive string // the path of the archive, or "artifact set"
	Entry   string // the entry name, or "artifact-index.json entry 3 (repo:tag)"
	Err     error
}

func (e *EntryError) Error() string {
	if e.Entry == "" {
		return fmt.Sprintf("ctf %s: %v", e.Archive, e.Err)
	}
	return fmt.Sprintf("ctf %s: %s: %v", e.Archive, e.Entry, e.Err)
}

func (e *EntryError) Unwrap() error { return e.Err }
