package transfer

import v1 "github.com/google/go-containerregistry/pkg/v1"

// EventKind says what an Event reports.
type EventKind int

// The events of a Run.
const (
	BlobStarted  EventKind = iota // a blob copy begins (Size is the blob's)
	BlobBytes                     // Size more bytes of a blob were read from the source
	BlobDone                      // a blob is in Repo (Outcome says how)
	ManifestDone                  // a manifest was pushed to Repo
	TagDone                       // Repo (a full reference) was tagged
	Planned                       // the run starts; Size is the blob bytes it moves at most (Stats.TargetBytes)
)

// Outcome says how a blob got into a repository.
type Outcome string

// Blob outcomes.
const (
	Copied  Outcome = "copied"  // its bytes were sent
	Mounted Outcome = "mounted" // the target registry linked it from another repository
	Skipped Outcome = "skipped" // the target had it already
)

// Event is one step of a Run, for progress displays.
type Event struct {
	Kind    EventKind
	Digest  v1.Hash
	Size    int64
	Repo    string
	Outcome Outcome
}
