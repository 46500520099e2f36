package transfer

import (
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Report is what a Run did.
type Report struct {
	Artifacts []ArtifactReport `json:"artifacts"`

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
	Digest v1.Hash  `json:"digest"`
	Tags   []string `json:"tags,omitempty"`
	For    string   `json:"for,omitempty"`
}

func (r *run) report() *Report {
	rep := &Report{
		BlobsCopied: r.blobsCopied.Load(), BlobsMounted: r.blobsMounted.Load(), BlobsSkipped: r.blobsSkipped.Load(),
		BytesCopied: r.bytesCopied.Load(), BytesMounted: r.bytesMounted.Load(), BytesSkipped: r.bytesSkipped.Load(),
		ManifestsPushed: r.manifestsPushed.Load(), ManifestsSkipped: r.manifestsSkipped.Load(), TagsSet: r.tagsSet.Load(),
		Duration: time.Since(r.start),
	}
	for _, a := range r.plan.roots() {
		rep.Artifacts = append(rep.Artifacts, ArtifactReport{Source: a.Source, Target: a.Target, Digest: a.Digest, Tags: a.Tags, For: a.For})
	}
	return rep
}
