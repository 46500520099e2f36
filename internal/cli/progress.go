package cli

import (
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/ferry-oci/ferry/transfer"
)

// progress shows how far a run is: a bar on a terminal, a plain line every
// few seconds otherwise (CI logs), nothing with --no-progress.
type progress struct {
	g     *globals
	what  string
	total atomic.Int64
	done  atomic.Int64
	bar   *progressbar.ProgressBar
	stopC chan struct{}
	wg    sync.WaitGroup
	start time.Time
}

// plainEvery is how often the plain progress line is printed.
const plainEvery = 5 * time.Second

func (g *globals) newProgress(what string, total int64) *progress {
	p := &progress{g: g, what: what, start: time.Now()}
	p.total.Store(total)
	if g.noProgress || g.output != "table" && !isTerminal(g.stderr) {
		return p
	}
	if isTerminal(g.stderr) {
		p.bar = progressbar.NewOptions64(total,
			progressbar.OptionSetWriter(g.stderr),
			progressbar.OptionSetDescription(what),
			progressbar.OptionShowBytes(true),
			progressbar.OptionSetWidth(30),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionShowCount(),
			progressbar.OptionClearOnFinish(),
			progressbar.OptionSpinnerType(14),
			progressbar.OptionFullWidth(),
		)
		return p
	}
	p.stopC = make(chan struct{})
	p.wg.Go(func() {
		t := time.NewTicker(plainEvery)
		defer t.Stop()
		for {
			select {
			case <-p.stopC:
				return
			case <-t.C:
				p.line()
			}
		}
	})
	return p
}

func (p *progress) line() {
	d := p.done.Load()
	total := p.total.Load()
	pct := 100.0
	if total > 0 {
		pct = float64(d) * 100 / float64(total)
	}
	p.g.logger().Info(p.what, "done", sizeString(d), "of", sizeString(total), "percent", fmt.Sprintf("%.0f", pct),
		"elapsed", time.Since(p.start).Round(time.Second).String())
}

// event takes the transfer engine's events; safe for concurrent use.
func (p *progress) event(e transfer.Event) {
	var n int64
	switch {
	case e.Kind == transfer.Planned:
		p.total.Store(e.Size)
		if p.bar != nil {
			p.bar.ChangeMax64(e.Size)
		}
		return
	case e.Kind == transfer.BlobBytes:
		n = e.Size
	case e.Kind == transfer.BlobDone && e.Outcome != transfer.Copied:
		n = e.Size
	default:
		return
	}
	p.done.Add(n)
	if p.bar != nil {
		_ = p.bar.Add64(n)
	}
}

func (p *progress) stop() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
	if p.stopC != nil {
		close(p.stopC)
		p.wg.Wait()
	}
}

func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func sizeString(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
