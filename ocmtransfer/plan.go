package ocmtransfer

import (
	"context"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/ferry-oci/ferry/bom"
	"github.com/ferry-oci/ferry/oci"
	"github.com/ferry-oci/ferry/transfer"
)

// Plan is an OCM transfer as data: the engine's plan of artifacts and
// blobs, and the component versions written after them.
type Plan struct {
	// Components are the component versions to write, referenced versions
	// before the versions that reference them; empty for a plain artifact copy.
	Components []ComponentVersion `json:"components,omitempty"`
	transfer.Plan
}

// Report is what Run did: the engine's report with the component versions
// written, and the bill of materials. Its JSON keeps the members in the
// order of its fields.
type Report struct {
	Components []ComponentReport         `json:"components,omitempty"`
	Artifacts  []transfer.ArtifactReport `json:"artifacts"`

	ComponentsWritten int64 `json:"componentsWritten"`
	ComponentsSkipped int64 `json:"componentsSkipped"`

	transfer.Counts

	// BOM is the bill of materials of the plan (Plan.BOM).
	BOM *bom.BOM `json:"bom"`
}

// ComponentReport is one component version of the plan, where it is now,
// and how each of its resources moved.
type ComponentReport struct {
	Name      string           `json:"name"`
	Version   string           `json:"version"`
	Target    string           `json:"target"`
	Digest    v1.Hash          `json:"digest"`
	Skipped   bool             `json:"skipped,omitempty"`
	Resources []ResourceChange `json:"resources,omitempty"`
}

// Run runs p with transfer.Run from src into dst and writes the component
// versions last, references first, each after every artifact and blob it
// names: descriptor layer, config and manifest, then its tag. Before it
// writes them it points their accesses at the digests the artifacts
// landed as (a platform-filtered index the target took in place of the
// original; see transfer.Plan.Landed). A version marked Skip is not
// written. Like transfer.Run it returns the Report of what was done with
// the first error.
func Run(ctx context.Context, p *Plan, src oci.Reader, dst oci.Store, o transfer.Options) (*Report, error) {
	w := &versionWriter{plan: p, progress: o.Progress}
	o.Finish = w
	rep, err := transfer.Run(ctx, &p.Plan, src, dst, o)
	out := &Report{Artifacts: rep.Artifacts, ComponentsWritten: w.written, ComponentsSkipped: w.skipped, Counts: rep.Counts, BOM: p.BOM()}
	for _, cv := range p.Components {
		out.Components = append(out.Components, ComponentReport{Name: cv.Name, Version: cv.Version, Target: cv.Target + ":" + cv.Tag,
			Digest: cv.Digest, Skipped: cv.Skip, Resources: cv.Resources})
	}
	return out, err
}

// versionWriter is the transfer.Finisher of Run: it writes the plan's
// component versions.
type versionWriter struct {
	plan             *Plan
	progress         func(transfer.Event)
	written, skipped int64
}

// Blobs implements transfer.Finisher: the local blobs of the versions to
// write. A version to write without a descriptor stops the run.
func (w *versionWriter) Blobs() (map[v1.Hash][]string, error) {
	need := map[v1.Hash][]string{}
	for _, cv := range w.plan.Components {
		if cv.Skip {
			continue
		}
		if cv.Descriptor.Descriptor == nil {
			return nil, fmt.Errorf("component version %s:%s: the plan holds no descriptor to write", cv.Name, cv.Version)
		}
		for _, b := range cv.Blobs {
			need[b] = append(need[b], cv.Target)
		}
	}
	return need, nil
}

// Finish implements transfer.Finisher: it relocates the versions to where
// their artifacts landed, then writes them.
func (w *versionWriter) Finish(ctx context.Context, dst oci.Store) error {
	if err := relocate(w.plan); err != nil {
		return err
	}
	for i := range w.plan.Components {
		cv := &w.plan.Components[i]
		if cv.Skip {
			w.skipped++
			continue
		}
		if err := w.write(ctx, dst, cv); err != nil {
			return err
		}
		w.written++
	}
	return nil
}

// write writes one version's descriptor layer, config and manifest (and
// index), then tags it.
func (w *versionWriter) write(ctx context.Context, dst oci.Store, cv *ComponentVersion) error {
	a, err := cv.encoded()
	if err != nil {
		return err
	}
	for _, part := range a.Parts() {
		if err := oci.PushBytes(ctx, dst, cv.Target, part.Descriptor, part.Bytes); err != nil {
			return fmt.Errorf("writing component version %s:%s to %s: %w", cv.Name, cv.Version, cv.Target, oci.WithSide(err, oci.Destination, "push"))
		}
	}
	ref, err := oci.ParseRef(cv.Target + ":" + cv.Tag)
	if err != nil {
		return err
	}
	if err := dst.Tag(ctx, ref, a.Top()); err != nil {
		return fmt.Errorf("tagging component version %s: %w", ref, oci.WithSide(err, oci.Destination, "tag"))
	}
	if w.progress != nil {
		w.progress(transfer.Event{Kind: transfer.TagDone, Digest: a.Top().Digest, Repo: ref.String()})
	}
	return nil
}

// Writes lists everything a Run of p may push (transfer.Plan.Writes), the
// component versions' descriptor layers, configs and manifests last, with
// their bytes.
func (p *Plan) Writes() []transfer.Write {
	var more []transfer.Write
	for i := range p.Components {
		cv := &p.Components[i]
		a, err := cv.encoded()
		if err != nil {
			continue // no descriptor: nothing to write
		}
		top := a.Top().Digest
		for _, part := range a.Parts() {
			w := transfer.Write{Repo: cv.Target, Descriptor: part.Descriptor, Manifest: oci.IsManifest(part.Descriptor.MediaType), Data: part.Bytes}
			if part.Descriptor.Digest == top {
				w.Tags = []string{cv.Tag}
			}
			more = append(more, w)
		}
	}
	return p.Plan.Writes(more...)
}

// CheckTags is transfer.CheckTags with the component versions' tags, after
// the artifacts', marked with the version they are of.
func CheckTags(ctx context.Context, p *Plan, dst oci.Reader, jobs int) ([]transfer.TagCheck, error) {
	return transfer.CheckTags(ctx, &p.Plan, dst, jobs, p.versionTags()...)
}

// Gate is transfer.Gate with the component versions' tags: a drifted
// version is not written when the policy skips it (transfer.DriftSkip),
// and written over the target's when it overwrites (even when the plan
// found it there already).
func Gate(ctx context.Context, p *Plan, dst oci.Store, o transfer.DriftOptions) ([]transfer.TagCheck, error) {
	checks, err := transfer.Gate(ctx, &p.Plan, dst, o, p.versionTags()...)
	byName := map[string]*ComponentVersion{}
	for i := range p.Components {
		cv := &p.Components[i]
		byName[cv.Name+":"+cv.Version] = cv
	}
	for _, c := range checks {
		cv := byName[c.Component]
		if c.Component == "" || cv == nil {
			continue // an artifact's tag: the engine acted on it
		}
		switch c.Action {
		case "skip":
			cv.Skip = true
		case "overwrite":
			cv.Skip = false
		}
	}
	return checks, err
}

// versionTags are the tags the component versions get, for the drift gate.
func (p *Plan) versionTags() []transfer.TagCheck {
	var out []transfer.TagCheck
	for _, cv := range p.Components {
		out = append(out, transfer.TagCheck{Repo: cv.Target, Tag: cv.Tag, Component: cv.Name + ":" + cv.Version, Planned: cv.Digest})
	}
	return out
}
