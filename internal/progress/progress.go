// Package progress draws the one line that shows how far a copy is: on a
// terminal a line redrawn in place that always fits its width, elsewhere
// (CI logs, redirected stderr) a plain log line every few seconds.
//
// The line counts the bytes actually sent against the bytes left to send;
// blobs the target mounted from another repository or had already are shown
// apart, and taken off what is left to send as they are found. It names the
// phase the run is in (planning, copying, tagging, verifying, …), shows a
// rate only after a meaningful sample (human.MinRateSample), and is cleared
// when the run ends, however it ends, so that what follows starts on a clean
// line. It writes no escape codes unless stderr is a terminal and NO_COLOR is
// unset (and TERM is not "dumb"); without them it erases with spaces.
package progress

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/ferry-oci/ferry/internal/human"
	"github.com/ferry-oci/ferry/transfer"
)

// Phases a run goes through. Any other text works too.
const (
	Planning  = "planning"
	Copying   = "copying"
	Tagging   = "tagging"
	Verifying = "verifying"
	Finishing = "finishing"
)

// Options say where and how the line is drawn.
type Options struct {
	// Terminal says Out is a terminal: the line is redrawn in place every
	// Interval. Otherwise a plain line goes to Log every LogEvery.
	Terminal bool
	// Width returns the terminal's width in columns now (it may change
	// between frames); nil or <= 0 means 80.
	Width func() int
	// Escapes allows ANSI escape codes (erase to end of line). Without
	// them, a shorter frame is padded with spaces.
	Escapes bool
	// Log receives the plain lines when Out is not a terminal; nil means
	// none.
	Log *slog.Logger
	// Interval between two terminal frames; 0 means 100ms.
	Interval time.Duration
	// LogEvery is how often the plain line is logged; 0 means 5s.
	LogEvery time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Bar is one progress line. Its methods are safe for concurrent use.
type Bar struct {
	out  io.Writer
	what string
	o    Options

	start   time.Time
	copying atomic.Int64 // when SetTotal was called, in UnixNano: the rate is measured from there
	total   atomic.Int64 // bytes to send if every target repository got a copy
	sent    atomic.Int64 // bytes sent
	mounted atomic.Int64 // bytes the target linked instead
	skipped atomic.Int64 // bytes the target had
	known   atomic.Bool  // total is set

	mu       sync.Mutex
	phase    string
	lastLen  int // columns of the frame on screen
	drawn    bool
	finished bool
	stop     chan struct{}
	wg       sync.WaitGroup
}

// New starts a progress line for what (a destination, a file) in the
// planning phase. out is where the terminal line goes.
func New(out io.Writer, what string, o Options) *Bar {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Interval <= 0 {
		o.Interval = 100 * time.Millisecond
	}
	if o.LogEvery <= 0 {
		o.LogEvery = 5 * time.Second
	}
	b := &Bar{out: out, what: what, o: o, start: o.Now(), phase: Planning, stop: make(chan struct{})}
	every := o.LogEvery
	if o.Terminal {
		every = o.Interval
		b.mu.Lock()
		b.draw()
		b.mu.Unlock()
	} else if o.Log == nil {
		return b
	}
	b.wg.Go(func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-b.stop:
				return
			case <-t.C:
				b.tick()
			}
		}
	})
	return b
}

// SetTotal sets the bytes the run would send if every target repository
// got its own copy; mounts and skips are taken off it as they happen. It
// ends the planning phase.
func (b *Bar) SetTotal(n int64) {
	b.copying.Store(b.o.Now().UnixNano())
	b.total.Store(n)
	b.known.Store(true)
	b.SetPhase(Copying)
}

// SetPhase names the phase the run is in now.
func (b *Bar) SetPhase(p string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.phase == p || b.finished {
		return
	}
	b.phase = p
	if b.o.Terminal {
		b.draw()
	}
}

// Sent counts n more bytes sent.
func (b *Bar) Sent(n int64) { b.sent.Add(n) }

// Mounted counts a blob of n bytes the target linked from another
// repository instead of receiving it.
func (b *Bar) Mounted(n int64) { b.mounted.Add(n) }

// Skipped counts a blob of n bytes the target had already.
func (b *Bar) Skipped(n int64) { b.skipped.Add(n) }

// Finish clears the line (the terminal line, or stops the plain lines) and
// stops redrawing; later calls, and calls on a nil Bar, do nothing. Call
// it whether the run succeeded, failed or was interrupted, before printing
// anything else.
func (b *Bar) Finish() {
	if b == nil {
		return
	}
	b.mu.Lock()
	if b.finished {
		b.mu.Unlock()
		return
	}
	b.finished = true
	if b.drawn {
		b.erase()
	}
	b.mu.Unlock()
	close(b.stop)
	b.wg.Wait()
}

// Event takes the transfer engine's events (transfer.Options.Progress); a
// nil Bar ignores them. Safe for concurrent use.
func (b *Bar) Event(e transfer.Event) {
	if b == nil {
		return
	}
	switch {
	case e.Kind == transfer.Planned:
		b.SetTotal(e.Size)
	case e.Kind == transfer.BlobBytes:
		b.Sent(e.Size)
	case e.Kind == transfer.BlobDone && e.Outcome == transfer.Mounted:
		b.Mounted(e.Size)
	case e.Kind == transfer.BlobDone && e.Outcome == transfer.Skipped:
		b.Skipped(e.Size)
	case e.Kind == transfer.TagDone:
		b.SetPhase(Tagging)
	}
}

func (b *Bar) tick() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.finished {
		return
	}
	if b.o.Terminal {
		b.draw()
		return
	}
	s := b.snapshot()
	args := []any{"sent", human.Bytes(s.sent)}
	if s.known {
		args = append(args, "of", human.Bytes(s.toSend), "percent", s.percent())
	}
	if s.mounted > 0 {
		args = append(args, "mounted", human.Bytes(s.mounted))
	}
	if s.skipped > 0 {
		args = append(args, "skipped", human.Bytes(s.skipped))
	}
	if r := human.Rate(s.sent, s.sending); r != "" {
		args = append(args, "rate", r)
	}
	args = append(args, "elapsed", s.elapsed.Round(time.Second).String())
	b.o.Log.Info(s.phase+" "+b.what, args...)
}

// state is one frame's numbers.
type state struct {
	phase            string
	known            bool
	sent, toSend     int64
	mounted, skipped int64
	elapsed          time.Duration // since the start
	sending          time.Duration // since the total was set: what the rate is over
}

func (b *Bar) snapshot() state {
	s := state{phase: b.phase, known: b.known.Load(), sent: b.sent.Load(), mounted: b.mounted.Load(),
		skipped: b.skipped.Load()}
	now := b.o.Now()
	s.elapsed = now.Sub(b.start)
	if s.known {
		s.sending = now.Sub(time.Unix(0, b.copying.Load()))
	}
	s.toSend = max(b.total.Load()-s.mounted-s.skipped, 0)
	if s.sent > s.toSend {
		s.toSend = s.sent // a retried blob is sent twice
	}
	return s
}

func (s state) fraction() float64 {
	if s.toSend == 0 {
		return 1
	}
	return min(float64(s.sent)/float64(s.toSend), 1)
}

func (s state) percent() string { return fmt.Sprintf("%d%%", int(s.fraction()*100)) }

// draw writes the frame for now. b.mu is held.
func (b *Bar) draw() {
	w := 80
	if b.o.Width != nil {
		if n := b.o.Width(); n > 0 {
			w = n
		}
	}
	// The last column is left free: a terminal that wraps on writing it
	// would move the cursor to the next line.
	line := render(b.what, b.snapshot(), w-1)
	n := utf8.RuneCountInString(line)
	var buf strings.Builder
	buf.WriteString("\r")
	buf.WriteString(line)
	if b.o.Escapes {
		buf.WriteString("\x1b[K")
	} else if n < b.lastLen {
		buf.WriteString(strings.Repeat(" ", b.lastLen-n))
		buf.WriteString("\r")
		buf.WriteString(line)
	}
	b.lastLen = n
	b.drawn = true
	io.WriteString(b.out, buf.String())
}

// erase clears the frame on screen. b.mu is held.
func (b *Bar) erase() {
	if b.o.Escapes {
		io.WriteString(b.out, "\r\x1b[K")
	} else {
		io.WriteString(b.out, "\r"+strings.Repeat(" ", b.lastLen)+"\r")
	}
	b.lastLen = 0
}

// render lays out a frame in at most width columns. The parts are added in
// order of importance while they fit: the phase and percentage, the bytes
// sent of those to send, the rate, what was mounted and skipped, the time,
// then the bar; what is named with the room left, shortened in the middle.
func render(what string, s state, width int) string {
	head := s.phase
	if s.phase == Copying && s.known && s.sent >= s.toSend {
		// Every blob is in: the manifests, tags and descriptors follow.
		head = Finishing
	}
	var parts []string // after the head and the bar, in order
	type opt struct {
		text string
		prio int
	}
	var opts []opt
	if s.known {
		opts = append(opts, opt{s.percent(), 0})
		opts = append(opts, opt{sentOf(s.sent, s.toSend), 1})
	}
	if r := human.Rate(s.sent, s.sending); r != "" && s.known {
		opts = append(opts, opt{r, 2})
	}
	if s.mounted > 0 {
		opts = append(opts, opt{"mounted " + human.Bytes(s.mounted), 3})
	}
	if s.skipped > 0 {
		opts = append(opts, opt{"skipped " + human.Bytes(s.skipped), 4})
	}
	opts = append(opts, opt{clock(s.elapsed), 5})

	used := runeLen(head)
	keep := make([]bool, len(opts))
	for prio := 0; prio <= 5; prio++ {
		for i, o := range opts {
			if o.prio == prio && used+2+runeLen(o.text) <= width {
				keep[i] = true
				used += 2 + runeLen(o.text)
			}
		}
	}
	for i, o := range opts {
		if keep[i] {
			parts = append(parts, o.text)
		}
	}
	bar := ""
	if s.known {
		if room := width - used - 2; room >= 12 {
			bar = drawBar(s.fraction(), min(room, 32))
			used += 2 + runeLen(bar)
		}
	}
	name := ""
	if room := width - used - 1; what != "" && (room >= runeLen(what) || room >= minName) {
		name = " " + shorten(what, room)
		used += runeLen(name)
	}
	var b strings.Builder
	b.WriteString(head)
	b.WriteString(name)
	if bar != "" {
		b.WriteString("  ")
		b.WriteString(bar)
	}
	for _, p := range parts {
		b.WriteString("  ")
		b.WriteString(p)
	}
	out := b.String()
	if runeLen(out) > width { // a terminal narrower than the head itself
		out = string([]rune(out)[:max(width, 0)])
	}
	return out
}

// sentOf is "12.3 MiB/50.1 MiB".
func sentOf(sent, toSend int64) string {
	return human.Bytes(sent) + "/" + human.Bytes(toSend)
}

func clock(d time.Duration) string {
	d = d.Round(time.Second)
	return fmt.Sprintf("%d:%02d", int(d.Minutes()), int(d.Seconds())%60)
}

func drawBar(f float64, width int) string {
	inner := width - 2
	full := int(f * float64(inner))
	return "[" + strings.Repeat("=", full) + strings.Repeat(" ", inner-full) + "]"
}

// minName is the fewest columns a shortened name is shown in.
const minName = 24

// shorten fits s in n columns, cutting out its middle.
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	if n < 2 {
		return string(r[:n])
	}
	left := (n - 1) / 2
	right := n - 1 - left
	return string(r[:left]) + "…" + string(r[len(r)-right:])
}

func runeLen(s string) int { return utf8.RuneCountInString(s) }
