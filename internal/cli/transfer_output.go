package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/internal/human"
	"github.com/ferry-oci/ferry/release"
	"github.com/ferry-oci/ferry/transfer"
)

// printPlanFile prints a transfer's plan: as a plan file --plan runs with
// -o json (signed with signKey when set), else as printPlan does.
func (g *globals) printPlanFile(pf *release.PlanFile, signKey string) error {
	return g.writePlanFile(pf, signKey, g.output == "json")
}

// writePlanFile prints the plan file as JSON, or with asJSON false as
// printPlan does.
func (g *globals) writePlanFile(pf *release.PlanFile, signKey string, asJSON bool) error {
	if !asJSON {
		if signKey != "" {
			return usageErr(errors.New("--sign-key signs the plan file: add -o json"))
		}
		return g.printPlan(pf.Plan)
	}
	key, err := loadSignKey(signKey)
	if err != nil {
		return err
	}
	b, err := pf.Marshal(key)
	if err != nil {
		return err
	}
	_, err = g.stdout.Write(b)
	return err
}

// printPlan prints what a transfer would do.
func (g *globals) printPlan(p *transfer.Plan) error {
	st := p.Stats()
	return g.print(struct {
		*transfer.Plan
		Stats transfer.Stats `json:"stats"`
	}{p, st}, func(t *tableWriter) {
		if len(p.Components) > 0 {
			t.row("COMPONENT", "VERSION", "TARGET", "DIGEST", "")
			for _, c := range p.Components {
				state := "to write"
				if c.Skip {
					state = "already there"
				}
				t.row(c.Name, c.Version, c.Target+":"+c.Tag, c.Digest.String(), state)
				for _, r := range c.Resources {
					t.row("  "+r.Name, r.How, accessString(r.To), "", "")
				}
			}
			t.row("")
		}
		t.row("SOURCE", "TARGET", "DIGEST", "TAGS")
		for _, a := range p.Artifacts {
			t.row(sourceName(a.Source), a.Target, a.Digest.String(), strings.Join(a.Tags, ","))
		}
		t.row("")
		t.row(fmt.Sprintf("%s, %s, %s to send (%s if every repository got its own copy)",
			human.Count(st.Artifacts, "artifact"), human.Count(st.Blobs, "unique blob"), human.Bytes(st.Bytes), human.Bytes(st.TargetBytes)))
	})
}

// runSummary is a transfer's report with what the run cost the registries.
type runSummary struct {
	*transfer.Report
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

// summary returns the report of a run with its request count.
func (g *globals) summary(r *transfer.Report) runSummary {
	return runSummary{r, g.requests(), g.selected, g.drift, g.cyclonedx}
}

// writeReport writes v as JSON to the --report file, if one was named.
func writeReport(file string, v any) error {
	if file == "" {
		return nil
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if _, err := writeFileAtomic(file, bytes.NewReader(append(b, '\n'))); err != nil {
		return fmt.Errorf("writing --report %s: %w", file, err)
	}
	return nil
}

// printReport prints what a transfer did, and writes it to file when named.
func (g *globals) printReport(r *transfer.Report, file string) error {
	s := g.summary(r)
	if err := writeReport(file, s); err != nil {
		return err
	}
	return g.print(s, func(t *tableWriter) {
		if len(r.Components) > 0 {
			t.row("COMPONENT", "VERSION", "TARGET", "DIGEST", "")
			for _, c := range r.Components {
				state := "written"
				if c.Skipped {
					state = "already there"
				}
				t.row(c.Name, c.Version, c.Target, c.Digest.String(), state)
			}
			t.row("")
		}
		t.row("TARGET", "DIGEST", "TAGS")
		for _, a := range r.Artifacts {
			t.row(a.Target, a.Digest.String(), strings.Join(a.Tags, ","))
		}
		t.row("")
		t.row(fmt.Sprintf("copied %s in %s, mounted %s, skipped %s (%s); %s pushed, %s set; %s",
			human.Bytes(r.BytesCopied), human.Count(r.BlobsCopied, "blob"), human.Count(r.BlobsMounted, "blob"), human.Count(r.BlobsSkipped, "blob"),
			human.Bytes(r.BytesSkipped), human.Count(r.ManifestsPushed, "manifest"), human.Count(r.TagsSet, "tag"), r.Duration.Round(1e6)))
		t.row(human.Count(s.Requests, "registry request"))
		if line := r.BOM.VerifiedSummary(); line != "" {
			t.row(line)
		}
	})
}

func accessString(a component.Access) string {
	b, _ := json.Marshal(a.Fields)
	return a.Type + " " + string(b)
}

// sourceName names where an artifact is read from for people: an OCM
// artifact set (an image stored by value in a local blob) by its blob.
func sourceName(repo string) string {
	if rest, ok := strings.CutPrefix(repo, transfer.ArtifactSetHost+"/"); ok {
		alg, hex, _ := strings.Cut(rest, "-")
		return "artifact set " + alg + ":" + hex
	}
	return repo
}
