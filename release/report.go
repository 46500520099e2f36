package release

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/ferry-oci/ferry/bundle"
	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/internal/human"
	"github.com/ferry-oci/ferry/ocmtransfer"
	"github.com/ferry-oci/ferry/transfer"
)

// RunReport is what a run did, as a --report file holds it: the engine's
// report with what the run cost the registries, the versions constraints
// chose, what the drift gate found and the CycloneDX bill of materials.
type RunReport struct {
	*ocmtransfer.Report
	// Requests counts the HTTP requests sent to registries, retries included.
	Requests int64 `json:"requests"`
	// Selected are the versions that constraints (NAME@CONSTRAINT, --semver) chose.
	Selected []component.Selection `json:"selected,omitempty"`
	// Drift are the tags the target held with other content, and what the
	// drift gate did about each (--overwrite, --skip-existing).
	Drift []transfer.TagCheck `json:"drift,omitempty"`
	// CycloneDX is the bill of materials as a CycloneDX document (--bom-format cyclonedx).
	CycloneDX json.RawMessage `json:"cyclonedx,omitempty"`
}

// RunReport returns the report of the run, with the requests it sent and
// the versions its repositories selected (repository.Selection.OnSelect).
func (r *Result) RunReport(requests int64, selected []component.Selection) RunReport {
	return RunReport{r.Report, requests, selected, r.Drift, r.CycloneDX}
}

// WriteTable writes the report for people: the component versions and
// artifacts written, and what it took.
func (r RunReport) WriteTable(w io.Writer) error {
	t := human.NewTable(w)
	if len(r.Components) > 0 {
		t.Row("COMPONENT", "VERSION", "TARGET", "DIGEST", "")
		for _, c := range r.Components {
			state := "written"
			if c.Skipped {
				state = "already there"
			}
			t.Row(c.Name, c.Version, c.Target, c.Digest.String(), state)
		}
		t.Row("")
	}
	t.Row("TARGET", "DIGEST", "TAGS")
	for _, a := range r.Artifacts {
		t.Row(a.Target, a.Digest.String(), strings.Join(a.Tags, ","))
	}
	t.Row("")
	t.Row(fmt.Sprintf("copied %s in %s, mounted %s, skipped %s (%s); %s pushed, %s set; %s",
		human.Bytes(r.BytesCopied), human.Count(r.BlobsCopied, "blob"), human.Count(r.BlobsMounted, "blob"), human.Count(r.BlobsSkipped, "blob"),
		human.Bytes(r.BytesSkipped), human.Count(r.ManifestsPushed, "manifest"), human.Count(r.TagsSet, "tag"), r.Duration.Round(1e6)))
	t.Row(human.Count(r.Requests, "registry request"))
	if line := r.BOM.VerifiedSummary(); line != "" {
		t.Row(line)
	}
	return t.Flush()
}

// WritePlanTable writes what a transfer would do, for people: every
// component version with its resources' new accesses, every artifact, and
// what would be sent.
func WritePlanTable(w io.Writer, p *ocmtransfer.Plan) error {
	t := human.NewTable(w)
	if len(p.Components) > 0 {
		t.Row("COMPONENT", "VERSION", "TARGET", "DIGEST", "")
		for _, c := range p.Components {
			state := "to write"
			if c.Skip {
				state = "already there"
			}
			t.Row(c.Name, c.Version, c.Target+":"+c.Tag, c.Digest.String(), state)
			for _, r := range c.Resources {
				b, _ := json.Marshal(r.To.Fields)
				t.Row("  "+r.Name, r.How, r.To.Type+" "+string(b), "", "")
			}
		}
		t.Row("")
	}
	t.Row("SOURCE", "TARGET", "DIGEST", "TAGS")
	for _, a := range p.Artifacts {
		t.Row(sourceName(a.Source), a.Target, a.Digest.String(), strings.Join(a.Tags, ","))
	}
	t.Row("")
	st := p.Stats()
	t.Row(fmt.Sprintf("%s, %s, %s to send (%s if every repository got its own copy)",
		human.Count(st.Artifacts, "artifact"), human.Count(st.Blobs, "unique blob"), human.Bytes(st.Bytes), human.Bytes(st.TargetBytes)))
	return t.Flush()
}

// sourceName names where an artifact is read from for people: an OCM
// artifact set (an image stored by value in a local blob) by its blob.
func sourceName(repo string) string {
	if rest, ok := strings.CutPrefix(repo, ocmtransfer.ArtifactSetHost+"/"); ok {
		alg, hex, _ := strings.Cut(rest, "-")
		return "artifact set " + alg + ":" + hex
	}
	return repo
}

// Comparison is what Promotion.Check compared: how many tags, how many
// the target does not hold yet, and those it holds with other content.
type Comparison struct {
	Checked int                 `json:"checked"`
	Absent  int                 `json:"absent"`
	Drifted []transfer.TagCheck `json:"drifted"`
}

// Comparison returns what Promotion.Check compared.
func (p Promoted) Comparison() Comparison {
	c := Comparison{Checked: len(p.Tags), Drifted: append([]transfer.TagCheck{}, transfer.Drifted(p.Tags)...)}
	for _, t := range p.Tags {
		if t.Found == (v1.Hash{}) {
			c.Absent++
		}
	}
	return c
}

// Err is nil when no tag drifted, else an error wrapping transfer.ErrDrift
// (exit code 3).
func (c Comparison) Err() error {
	if len(c.Drifted) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %d of %d tags hold other content in the target (listed above)", transfer.ErrDrift, len(c.Drifted), c.Checked)
}

// WriteTable writes the tags that drifted and a line counting the rest.
func (c Comparison) WriteTable(w io.Writer) error {
	t := human.NewTable(w)
	if len(c.Drifted) > 0 {
		t.Row("TAG", "TARGET DIGEST", "SOURCE DIGEST")
		for _, d := range c.Drifted {
			t.Row(d.Ref(), d.Found.String(), d.Planned.String())
		}
		t.Row("")
	}
	t.Row(fmt.Sprintf("%d tags compared: %d in sync, %d not in the target yet, %d drifted", c.Checked, c.Checked-c.Absent-len(c.Drifted), c.Absent, len(c.Drifted)))
	return t.Flush()
}

// Notes are the lines that tell people what the drift gate did to each
// tag it found drifted and which mirror configuration was written.
func (p Promoted) Notes() []string {
	var notes []string
	for _, c := range p.Drift {
		switch c.Action {
		case "skip":
			notes = append(notes, fmt.Sprintf("note: %s holds %s, not %s: left as it is (--skip-existing)", c.Ref(), c.Found, c.Planned))
		case "overwrite":
			kept := ""
			if c.Backup != "" {
				kept = ", the old content kept as " + c.Repo + ":" + c.Backup
			}
			notes = append(notes, fmt.Sprintf("note: %s holds %s: moved to %s (--overwrite)%s", c.Ref(), c.Found, c.Planned, kept))
		}
	}
	if len(p.MirrorFiles) > 0 {
		notes = append(notes, "wrote mirror configuration: "+strings.Join(p.MirrorFiles, ", "))
	}
	for _, s := range p.MirrorSkipped {
		notes = append(notes, "note: mirror configuration left out: "+s)
	}
	return notes
}

// BundleReport is what CreateBundle wrote, as 'bundle create' prints it
// and its --report file holds it.
type BundleReport struct {
	Bundle     string          `json:"bundle"`
	Volumes    []bundle.Volume `json:"volumes"`
	Size       int64           `json:"size"`
	Components int             `json:"components"`
	Artifacts  int             `json:"artifacts"`
	Blobs      int             `json:"blobs"`
	// BlobBytes are the blobs (manifests included) without ferry's
	// metadata, as verify and inspect count them.
	BlobBytes int64            `json:"blobBytes"`
	LeftOut   int              `json:"leftOut,omitempty"`
	Resumed   bundle.Resumed   `json:"resumed"`
	Report    RunReport        `json:"report"`
	Metadata  *bundle.Metadata `json:"-"`
}

// BundleReport returns what the bundle holds, with the run's report (see
// Result.RunReport).
func (r *BundleResult) BundleReport(requests int64, selected []component.Selection) BundleReport {
	md := r.Metadata
	b := BundleReport{Bundle: r.File, Volumes: r.Volumes, Size: r.Size, Components: len(md.Components), Artifacts: len(md.Artifacts),
		Blobs: len(md.Blobs), BlobBytes: md.BlobBytes(), Resumed: r.Resumed, Report: r.RunReport(requests, selected), Metadata: md}
	if md.LeftOut != nil {
		b.LeftOut = len(md.LeftOut.Blobs)
	}
	return b
}

// WriteTable writes the bundle's files and a line saying what they hold.
func (b BundleReport) WriteTable(w io.Writer) error {
	t := human.NewTable(w)
	t.Row("FILE", "SIZE")
	for _, v := range b.Volumes {
		t.Row(v.Path, human.Bytes(v.Size))
	}
	t.Row("")
	line := fmt.Sprintf("%s, %s, %s (%s); fetched %s",
		human.Count(b.Components, "component version"), human.Count(b.Artifacts, "artifact"), human.Count(b.Blobs, "blob"),
		human.Bytes(b.BlobBytes), human.Bytes(b.Report.BytesCopied))
	if b.Resumed.Blobs > 0 {
		line += fmt.Sprintf(" (resumed: %s, %s already there)", human.Count(b.Resumed.Blobs, "blob"), human.Bytes(b.Resumed.Bytes))
	}
	if b.LeftOut > 0 {
		line += fmt.Sprintf("; left out %s the target holds", human.Count(b.LeftOut, "blob"))
	}
	t.Row(line)
	if v := b.Metadata.BOM.VerifiedSummary(); v != "" {
		t.Row(v)
	}
	return t.Flush()
}
