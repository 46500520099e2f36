package cli

import (
	"fmt"
	"strings"

	"github.com/ferry-oci/ferry/transfer"
)

// printPlan prints what a transfer would do.
func (g *globals) printPlan(p *transfer.Plan) error {
	st := p.Stats()
	return g.print(struct {
		*transfer.Plan
		Stats transfer.Stats `json:"stats"`
	}{p, st}, func(t *tableWriter) {
		t.row("SOURCE", "TARGET", "DIGEST", "TAGS")
		for _, a := range p.Artifacts {
			t.row(a.Source, a.Target, a.Digest.String(), strings.Join(a.Tags, ","))
		}
		t.row("")
		t.row(fmt.Sprintf("%d artifacts, %d unique blobs, %s to send (%s if every repository got its own copy)",
			st.Artifacts, st.Blobs, sizeString(st.Bytes), sizeString(st.TargetBytes)))
	})
}

// printReport prints what a transfer did.
func (g *globals) printReport(r *transfer.Report) error {
	return g.print(r, func(t *tableWriter) {
		t.row("TARGET", "DIGEST", "TAGS")
		for _, a := range r.Artifacts {
			t.row(a.Target, a.Digest.String(), strings.Join(a.Tags, ","))
		}
		t.row("")
		t.row(fmt.Sprintf("copied %s in %d blobs, mounted %d, skipped %d (%s); %d manifests pushed, %d tags set; %s",
			sizeString(r.BytesCopied), r.BlobsCopied, r.BlobsMounted, r.BlobsSkipped, sizeString(r.BytesSkipped),
			r.ManifestsPushed, r.TagsSet, r.Duration.Round(1e6)))
	})
}
