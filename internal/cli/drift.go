package cli

import (
	"errors"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/spf13/cobra"

	"github.com/ferry-oci/ferry/release"
	"github.com/ferry-oci/ferry/transfer"
)

// driftFlags are the drift gate's flags (next to the command's --overwrite).
type driftFlags struct {
	skipExisting bool
	backupSuffix string
	check        bool
}

func (d *driftFlags) add(cmd *cobra.Command) {
	f := cmd.Flags()
	f.BoolVar(&d.skipExisting, "skip-existing", false, "leave a tag the target holds with other content as it is (reported), instead of stopping with exit code 3")
	f.StringVar(&d.backupSuffix, "backup-tag-suffix", "", "with --overwrite: keep the content a moved tag named under the tag with this suffix (6.3.5-SUFFIX)")
	f.BoolVar(&d.check, "check", false, "compare every tag the transfer would set with what the target holds, write nothing: exit 0 in sync, 3 on drift")
}

// apply sets the gate's options.
func (d driftFlags) apply(o *release.Options) {
	o.SkipExisting, o.BackupTagSuffix, o.Check = d.skipExisting, d.backupSuffix, d.check
}

// promoted prints and records what the drift gate did and keeps the
// CycloneDX BOM for the report. After --check it prints the comparison
// and returns a drift error (exit code 3) when a tag drifted.
func (g *globals) promoted(res *release.Result, check bool) error {
	if check {
		return g.printCheck(res.Tags)
	}
	g.drift, g.cyclonedx = res.Drift, res.CycloneDX
	for _, c := range res.Drift {
		switch c.Action {
		case "skip":
			fmt.Fprintf(g.stderr, "note: %s holds %s, not %s: left as it is (--skip-existing)\n", c.Ref(), c.Target, c.Source)
		case "overwrite":
			kept := ""
			if c.Backup != "" {
				kept = ", the old content kept as " + c.Repo + ":" + c.Backup
			}
			fmt.Fprintf(g.stderr, "note: %s holds %s: moved to %s (--overwrite)%s\n", c.Ref(), c.Target, c.Source, kept)
		}
	}
	if len(res.MirrorFiles) > 0 {
		fmt.Fprintf(g.stderr, "wrote mirror configuration: %s\n", joinComma(res.MirrorFiles))
	}
	for _, s := range res.MirrorSkipped {
		fmt.Fprintf(g.stderr, "note: mirror configuration left out: %s\n", s)
	}
	return nil
}

// printCheck prints what --check compared.
func (g *globals) printCheck(checks []transfer.TagCheck) error {
	drifted := transfer.Drifted(checks)
	var absent int
	for _, c := range checks {
		if c.Target == (v1.Hash{}) {
			absent++
		}
	}
	err := g.print(struct {
		Checked int                 `json:"checked"`
		Absent  int                 `json:"absent"`
		Drifted []transfer.TagCheck `json:"drifted"`
	}{len(checks), absent, append([]transfer.TagCheck{}, drifted...)}, func(t *tableWriter) {
		if len(drifted) > 0 {
			t.row("TAG", "TARGET DIGEST", "SOURCE DIGEST")
			for _, c := range drifted {
				t.row(c.Ref(), c.Target.String(), c.Source.String())
			}
			t.row("")
		}
		t.row(fmt.Sprintf("%d tags compared: %d in sync, %d not in the target yet, %d drifted", len(checks), len(checks)-absent-len(drifted), absent, len(drifted)))
	})
	if err != nil {
		return err
	}
	if len(drifted) > 0 {
		return fmt.Errorf("%w: %d of %d tags hold other content in the target (listed above)", transfer.ErrDrift, len(drifted), len(checks))
	}
	return nil
}

// driftHint is the hint for a run the drift gate stopped.
func driftHint(err error) string {
	var de *transfer.DriftError
	if errors.As(err, &de) {
		return "the tags above changed in the target since they were written: find out why; then pass --overwrite (with --backup-tag-suffix to keep the old content) or --skip-existing"
	}
	return ""
}

func joinComma(ss []string) string {
	out := ""
	for i, s := range ss {
		if i > 0 {
			out += ", "
		}
		out += s
	}
	return out
}
