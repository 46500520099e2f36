package cli

import (
	"os"

	"golang.org/x/term"

	"github.com/ferry-oci/ferry/internal/progress"
	"github.com/ferry-oci/ferry/release"
)

// startProgress starts the progress line of a run (internal/progress) for
// what in the planning phase (verifying, when ro has signature gates) and
// feeds it ro's events: redrawn in place on a terminal, a log line every
// few seconds otherwise. Without a line (--no-progress, or no terminal and
// a -o other than table) it returns nil, which does nothing. Finish it
// before printing.
func (g *globals) startProgress(what string, ro *release.Options) *progress.Bar {
	isTerm := isTerminal(g.stderr)
	if g.noProgress || !isTerm && g.output != "table" {
		return nil
	}
	o := progress.Options{Terminal: isTerm, Log: g.logger(),
		Escapes: isTerm && os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb"}
	if f, ok := g.stderr.(*os.File); ok && isTerm {
		o.Width = func() int { w, _, _ := term.GetSize(int(f.Fd())); return w }
	}
	bar := progress.New(g.stderr, what, o)
	if len(ro.Verify) > 0 || ro.VerifyImage != nil {
		bar.SetPhase(progress.Verifying)
	}
	ro.Progress = bar.Event
	return bar
}

func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
