package release

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/ferry-oci/ferry/internal/buildinfo"
	"github.com/ferry-oci/ferry/internal/human"
	"github.com/ferry-oci/ferry/mirror"
	"github.com/ferry-oci/ferry/oci"
	"github.com/ferry-oci/ferry/ocmtransfer"
	"github.com/ferry-oci/ferry/repository"
	"github.com/ferry-oci/ferry/transfer"
)

// Promotion are the options a promotion between registries adds to a
// transfer or an import: the drift gate's, the CycloneDX BOM and the
// runtime mirror configuration.
type Promotion struct {
	// SkipExisting leaves a tag the target holds with other content as it
	// is (the image is still copied by digest, a component version is not
	// rewritten) and reports it in Promoted.Drift.
	SkipExisting bool
	// BackupTagSuffix, with Overwrite, keeps the content a moved tag named
	// under the tag with this suffix ("6.3.5" + "-replaced").
	BackupTagSuffix string
	// Check compares every tag the plan would set with the target and
	// writes nothing: Promoted.Tags lists them, and TagCheck.Drifted marks
	// those that hold other content (a caller's exit code 3).
	Check bool
	// CycloneDX records the bill of materials as a CycloneDX document too
	// (Promoted.CycloneDX; in a bundle's metadata for CreateBundle).
	CycloneDX bool
	// MirrorConfig, when set, is a directory that gets the runtime mirror
	// configuration of the copied images after a transfer or an import
	// (every format of package mirror, each in MirrorConfig/FORMAT).
	MirrorConfig string

	// origins, for an import, are the repositories the bundle's images
	// were read from, by digest (its metadata's), for MirrorConfig.
	origins map[v1.Hash]string
}

// mirrorPairs are the original repositories of the images plan copies and
// their copies.
func (o Options) mirrorPairs(plan *ocmtransfer.Plan) []mirror.Pair {
	if o.origins != nil {
		return mirror.FromOrigins(plan, o.origins)
	}
	return mirror.FromPlan(plan)
}

// Promoted is what the promotion options found and wrote.
type Promoted struct {
	// Tags are the tags Promotion.Check compared.
	Tags []transfer.TagCheck `json:"tags,omitempty"`
	// Drift are the tags the target held with other content and what the
	// gate did about each (Overwrite, SkipExisting).
	Drift []transfer.TagCheck `json:"drift,omitempty"`
	// CycloneDX is the bill of materials as a CycloneDX 1.6 JSON document.
	CycloneDX []byte `json:"-"`
	// MirrorFiles are the files Promotion.MirrorConfig wrote;
	// MirrorSkipped says which format could not say the mapping, and why.
	MirrorFiles   []string `json:"mirrorFiles,omitempty"`
	MirrorSkipped []string `json:"mirrorSkipped,omitempty"`
}

// policy is the drift gate's options.
func (o Options) policy() (transfer.DriftOptions, error) {
	d := transfer.DriftOptions{Jobs: o.Jobs, BackupSuffix: o.BackupTagSuffix}
	switch {
	case o.Overwrite && o.SkipExisting:
		return d, usageError("--overwrite and --skip-existing: give one")
	case o.BackupTagSuffix != "" && !o.Overwrite:
		return d, usageError("--backup-tag-suffix names the backup of a tag --overwrite moves: add --overwrite")
	case o.Overwrite:
		d.Policy = transfer.DriftOverwrite
	case o.SkipExisting:
		d.Policy = transfer.DriftSkip
	}
	if err := transfer.CheckBackupSuffix(o.BackupTagSuffix); err != nil {
		return d, &UsageError{err}
	}
	return d, nil
}

// gate runs the drift gate on plan before anything is written to dst: it
// stops the run (a *transfer.DriftError), or changes the plan as the
// options say, and returns the drifted tags. It reads dst through store
// (dst's own store, or a transfer.Lookahead over it).
func (o Options) gate(ctx context.Context, plan *ocmtransfer.Plan, dst *repository.Repository, store oci.Store) ([]transfer.TagCheck, error) {
	d, err := o.policy()
	if err != nil {
		return nil, err
	}
	if o.MirrorConfig != "" && dst.Intermediate() {
		return nil, usageError("--mirror-config configures runtimes to pull from a registry; " + dst.Spec.String() + " is an archive")
	}
	if o.MirrorConfig != "" && len(o.mirrorPairs(plan)) == 0 {
		return nil, usageError("--mirror-config: no copied image names the registry it came from (images read from an archive, or a bundle without ferry's metadata, have no upstream a runtime would pull): run 'ferry mirror-config' against the registry the images came from")
	}
	checks, err := ocmtransfer.Gate(ctx, plan, store, d)
	if err != nil {
		return nil, err
	}
	return transfer.Drifted(checks), nil
}

// check is Promotion.Check: it compares and writes nothing. It reads the
// target through store, as gate does.
func (o Options) check(ctx context.Context, plan *ocmtransfer.Plan, store oci.Reader) (*Result, error) {
	checks, err := ocmtransfer.CheckTags(ctx, plan, store, o.Jobs)
	if err != nil {
		return nil, err
	}
	return &Result{Plan: plan, Promoted: Promoted{Tags: checks, Drift: transfer.Drifted(checks)}}, nil
}

// promoted makes the CycloneDX BOM and the mirror configuration of a run
// that succeeded.
func (o Options) promoted(res *Result, dst *repository.Repository) error {
	if o.CycloneDX && res.Report != nil && res.Report.BOM != nil {
		doc, err := res.Report.BOM.CycloneDX(buildinfo.Tool())
		if err != nil {
			return err
		}
		res.CycloneDX = doc
	}
	if o.MirrorConfig != "" {
		// Every format that can say it: containerd maps whole hosts and
		// is left out, with a note, when the copies share no root.
		for _, f := range mirror.Formats {
			files, err := writeMirrorPairs(o.mirrorPairs(res.Plan), filepath.Join(o.MirrorConfig, string(f)), []mirror.Format{f}, mirror.Options{PlainHTTP: dst.Spec.PlainHTTP()})
			res.MirrorFiles = append(res.MirrorFiles, files...)
			if errors.Is(err, mirror.ErrNotHostWide) {
				res.MirrorSkipped = append(res.MirrorSkipped, err.Error())
				continue
			}
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// WriteMirrorConfig writes the runtime mirror configuration of the images
// plan copies (mirror.FromPlan) into dir: one format into dir itself,
// several each into dir/FORMAT. It returns the files written.
func WriteMirrorConfig(plan *ocmtransfer.Plan, dir string, formats []mirror.Format, o mirror.Options) ([]string, error) {
	return writeMirrorPairs(mirror.FromPlan(plan), dir, formats, o)
}

func writeMirrorPairs(pairs []mirror.Pair, dir string, formats []mirror.Format, o mirror.Options) ([]string, error) {
	var written []string
	for _, f := range formats {
		d := dir
		if len(formats) > 1 {
			d = filepath.Join(dir, string(f))
		}
		ps, err := mirror.Write(d, f, pairs, o)
		written = append(written, ps...)
		if err != nil {
			return written, &MirrorError{Format: f, Dir: d, Err: err}
		}
	}
	return written, nil
}

// MirrorError is a mirror configuration that could not be written.
type MirrorError struct {
	Format mirror.Format
	Dir    string
	Err    error
}

func (e *MirrorError) Error() string {
	return "writing the " + string(e.Format) + " mirror configuration into " + e.Dir + ": " + e.Err.Error()
}
func (e *MirrorError) Unwrap() error { return e.Err }

// MirrorResult is what MirrorConfig wrote.
type MirrorResult struct {
	Pairs []mirror.Pair `json:"mirrors"`
	Files []string      `json:"files"`
}

// MirrorConfig writes the runtime mirror configuration for the images of
// the component versions the sources name (as Transfer reads them), as if
// they were transferred to target: the copies are named by the transfer's
// own rule (the plan of that transfer, nothing copied, nothing written to
// target). Formats nil means every one, each in dir/FORMAT.
func MirrorConfig(ctx context.Context, sources []string, target, dir string, formats []mirror.Format, mo mirror.Options, o Options) (*MirrorResult, error) {
	src, versions, dst, err := openEnds(ctx, sources, target, o.Repository, false)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	defer dst.Close()
	if dst.Intermediate() {
		return nil, usageError("--registry " + target + ": name a registry (host[:port]/path); runtimes pull from registries, not archives")
	}
	images, err := o.images(src)
	if err != nil {
		return nil, err
	}
	sources2 := &ocmtransfer.SourceReader{Store: src.Store(), Images: images}
	defer sources2.Close()
	co := o.componentOptions("")
	co.Artifacts.NoAttachments = true
	plan, err := ocmtransfer.NewPlan(ctx, sources2, src.Repository, versions,
		ocmtransfer.Target{Repository: dst.Repository, Scheme: dst.Spec.Scheme}, co)
	if err != nil {
		return nil, &PlanError{What: "where the images land in " + dst.Spec.String(), Err: err}
	}
	if len(formats) == 0 {
		formats = mirror.Formats
	}
	if !mo.PlainHTTP {
		mo.PlainHTTP = dst.Spec.PlainHTTP()
	}
	files, err := WriteMirrorConfig(plan, dir, formats, mo)
	return &MirrorResult{Pairs: mirror.FromPlan(plan), Files: files}, err
}

// WriteTable writes each image repository beside its mirror, then the
// files written.
func (r *MirrorResult) WriteTable(w io.Writer) error {
	t := human.NewTable(w)
	t.Row("SOURCE", "MIRROR")
	for _, p := range r.Pairs {
		t.Row(p.Source, p.Mirror)
	}
	t.Row("")
	t.Row("wrote " + strings.Join(r.Files, ", "))
	return t.Flush()
}
