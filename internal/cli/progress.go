package cli

import (
	"os"

	"golang.org/x/term"

	"github.com/ferry-oci/ferry/internal/human"
	"github.com/ferry-oci/ferry/internal/progress"
	"github.com/ferry-oci/ferry/release"
	"github.com/ferry-oci/ferry/transfer"
)

// runProgress is the progress line of a run (internal/progress), fed by
// the transfer engine's events. Without a line (--no-progress, or no
// terminal and a -o other than table) its methods do nothing.
type runProgress struct{ bar *progress.Bar }

// startProgress starts the line for what in the planning phase (verifying,
// when ro has signature gates) and feeds it ro's events: redrawn in place on
// a terminal, a log line every few seconds otherwise. Stop it before
// printing.
func (g *globals) startProgress(what string, ro *release.Options) *runProgress {
	p := &runProgress{}
	ro.Progress = p.event
	isTerm := isTerminal(g.stderr)
	if g.noProgress || !isTerm && g.output != "table" {
		return p
	}
	o := progress.Options{Terminal: isTerm, Log: g.logger(),
		Escapes: isTerm && os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb"}
	if f, ok := g.stderr.(*os.File); ok && isTerm {
		o.Width = func() int { w, _, _ := term.GetSize(int(f.Fd())); return w }
	}
	p.bar = progress.New(g.stderr, what, o)
	if len(ro.Verify) > 0 || ro.VerifyImage != nil {
		p.bar.SetPhase(progress.Verifying)
	}
	return p
}

// event takes the transfer engine's events; safe for concurrent use.
func (p *runProgress) event(e transfer.Event) {
	if p.bar == nil {
		return
	}
	switch {
	case e.Kind == transfer.Planned:
		p.bar.SetTotal(e.Size)
	case e.Kind == transfer.BlobBytes:
		p.bar.Sent(e.Size)
	case e.Kind == transfer.BlobDone && e.Outcome == transfer.Mounted:
		p.bar.Mounted(e.Size)
	case e.Kind == transfer.BlobDone && e.Outcome == transfer.Skipped:
		p.bar.Skipped(e.Size)
	case e.Kind == transfer.TagDone:
		p.bar.SetPhase(progress.Tagging)
	}
}

// stop clears the line; it may be called more than once.
func (p *runProgress) stop() {
	if p.bar != nil {
		p.bar.Finish()
	}
}

func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func sizeString(n int64) string { return human.Bytes(n) }
