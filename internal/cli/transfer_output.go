package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/ferry-oci/ferry/ocmtransfer"
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
	key, err := release.LoadSignKey(signKey)
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
func (g *globals) printPlan(p *ocmtransfer.Plan) error {
	return g.show(struct {
		*ocmtransfer.Plan
		Stats transfer.Stats `json:"stats"`
	}{p, p.Stats()}, func(w io.Writer) error { return release.WritePlanTable(w, p) })
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

// printReport prints what a run did, and writes it to file when named.
func (g *globals) printReport(res *release.Result, file string) error {
	r := res.RunReport(g.requests(), g.selected)
	if err := writeReport(file, r); err != nil {
		return err
	}
	return g.show(r, r.WriteTable)
}
