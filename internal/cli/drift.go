package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ferry-oci/ferry/release"
)

// addDriftFlags binds the drift gate's flags (next to the command's
// --overwrite) to p.
func addDriftFlags(cmd *cobra.Command, p *release.Promotion) {
	f := cmd.Flags()
	f.BoolVar(&p.SkipExisting, "skip-existing", false, "leave a tag the target holds with other content as it is (reported), instead of stopping with exit code 3")
	f.StringVar(&p.BackupTagSuffix, "backup-tag-suffix", "", "with --overwrite: keep the content a moved tag named under the tag with this suffix (6.3.5-SUFFIX)")
	f.BoolVar(&p.Check, "check", false, "compare every tag the transfer would set with what the target holds, write nothing: exit 0 in sync, 3 on drift")
}

// copyFlags are what transfer, bundle create and bundle import share: the
// flags bound straight to release.Options, and those the CLI reads itself.
type copyFlags struct {
	release.Options
	platforms  []string
	verify     verifyFlags
	reportFile string
	plan       string // --plan FILE
	signKey    string // --sign-key FILE, for the plan of --dry-run
}

// options completes the bound options with what the other flags name: the
// gates, the platforms, the repositories and the BOM format.
func (g *globals) options(c *copyFlags) (release.Options, error) {
	o, err := g.releaseOptions(c.verify, c.platforms, c.NoAttachments, c.Jobs)
	if err != nil {
		return o, err
	}
	bound := c.Options
	bound.Verify, bound.VerifyImage, bound.Platforms, bound.Repository, bound.Logger = o.Verify, o.VerifyImage, o.Platforms, o.Repository, o.Logger
	bound.CycloneDX = g.wantCycloneDX()
	return bound, nil
}

// planOptions are the options of a run of --plan: the plan fixes what is
// copied, so only the gate, the jobs and what is written beside count.
func (g *globals) planOptions(c *copyFlags) (release.Options, error) {
	if c.DryRun || len(c.verify.signatures) > 0 || c.signKey != "" {
		return release.Options{}, usageErr(errors.New("--plan runs a plan as it was made (and gated): it does not take --dry-run, --verify-signature or --sign-key"))
	}
	return g.options(&copyFlags{Options: release.Options{Overwrite: c.Overwrite, Promotion: c.Promotion, Jobs: c.Jobs}})
}

// printResult prints what a transfer or an import did: after --check the
// comparison, returning a drift error (exit code 3) when a tag drifted;
// else the drift gate's notes and the report, also written to the
// --report file when named.
func (g *globals) printResult(res *release.Result, check bool, reportFile string) error {
	if check {
		c := res.Comparison()
		if err := g.show(c, c.WriteTable); err != nil {
			return err
		}
		return c.Err()
	}
	for _, n := range res.Notes() {
		fmt.Fprintln(g.stderr, n)
	}
	return g.printReport(res, reportFile)
}
