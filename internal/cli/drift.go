package cli

import (
	"errors"
	"fmt"

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

// driftHint is the hint for a run the drift gate stopped.
func driftHint(err error) string {
	var de *transfer.DriftError
	if errors.As(err, &de) {
		return "the tags above changed in the target since they were written: find out why; then pass --overwrite (with --backup-tag-suffix to keep the old content) or --skip-existing"
	}
	return ""
}
