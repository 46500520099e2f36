package transfer

import (
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Report is what a Run did: where each artifact is now, and the counts.
type Report struct {
	Artifacts []ArtifactReport `json:"artifacts"`
	Counts
}

// Counts are what a Run moved and skipped, and how long it took.
type Counts struct {
	BlobsCopied      int64         `json:"blobsCopied"`
	BlobsMounted     int64         `json:"blobsMounted"`
	BlobsSkipped     int64         `json:"blobsSkipped"`
	BytesCopied      int64         `json:"bytesCopied"`
	BytesMounted     int64         `json:"bytesMounted"`
	BytesSkipped     int64         `json:"bytesSkipped"`
	ManifestsPushed  int64         `json:"manifestsPushed"`
	ManifestsSkipped int64         `json:"manifestsSkipped"`
	TagsSet          int64         `json:"tagsSet"`
	Duration         time.Duration `json:"duration"`
}

// ArtifactReport is one artifact of the plan and where it is now.
type ArtifactReport struct {
	Source string   `json:"source"`
	Target string   `json:"target"`
	Digest v1.Hash  `json:"digest"` // what the target holds
	Tags   []string `json:"tags,omitempty"`
	For    string   `json:"for,omitempty"`
	// Platforms are the platforms copied of an index filtered by platform.
	Platforms []v1.Platform `json:"platforms,omitempty"`
	// FilteredFrom is the source index's digest when the target holds the
	// filtered index (Digest) instead: it refused the index without the
	// children of the other platforms.
	FilteredFrom *v1.Hash `json:"filteredFrom,omitempty"`
	// Attachment and Subject are the artifact's own (see Artifact).
	Attachment string   `json:"attachment,omitempty"`
	Subject    *v1.Hash `json:"subject,omitempty"`
}

func (r *run) report() *Report {
	rep := &Report{Counts: Counts{
		BlobsCopied: r.blobsCopied.Load(), BlobsMounted: r.blobsMounted.Load(), BlobsSkipped: r.blobsSkipped.Load(),
		BytesCopied: r.bytesCopied.Load(), BytesMounted: r.bytesMounted.Load(), BytesSkipped: r.bytesSkipped.Load(),
		ManifestsPushed: r.manifestsPushed.Load(), ManifestsSkipped: r.manifestsSkipped.Load(), TagsSet: r.tagsSet.Load(),
		Duration: time.Since(r.start),
	}}
	for _, a := range r.plan.Roots() {
		ar := ArtifactReport{Source: a.Source, Target: a.Target, Digest: a.Landed().Digest, Tags: a.Tags, For: a.For,
			Attachment: a.Attachment, Subject: a.Subject}
		if a.Filter != nil {
			ar.Platforms = a.Filter.Platforms
			if a.Filter.Landed {
				from := a.Digest
				ar.FilteredFrom = &from
			}
		}
		rep.Artifacts = append(rep.Artifacts, ar)
	}
	return rep
}
