package progress

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

func TestRenderFitsEveryWidth(t *testing.T) {
	s := state{phase: Copying, known: true, sent: 12 << 20, toSend: 50 << 20, mounted: 3 << 20, skipped: 1 << 20, elapsed: 4 * time.Second, sending: 3 * time.Second}
	what := "to http://127.0.0.1:39627/air/some/long/repository/path"
	for w := 1; w <= 220; w++ {
		line := render(what, s, w)
		if n := utf8.RuneCountInString(line); n > w {
			t.Fatalf("width %d: %d columns: %q", w, n, line)
		}
	}
	// The bar goes before the numbers: at 80 columns the numbers are all there.
	line80 := render(what, s, 79)
	for _, want := range []string{"copying", "24%", "12.0 MiB/50.0 MiB", "4.0 MiB/s", "mounted 3.0 MiB", "skipped 1.0 MiB"} {
		if !strings.Contains(line80, want) {
			t.Errorf("80 columns: %q lacks %q", line80, want)
		}
	}
	if line := render(what, s, 60); strings.Contains(line, "[") || !strings.Contains(line, "12.0 MiB/50.0 MiB") {
		t.Errorf("60 columns: the bar stays while numbers go, or the numbers went: %q", line)
	}
	if line := render(what, s, 199); !strings.Contains(line, "[==") || !strings.Contains(line, what) {
		t.Errorf("200 columns: no bar or no name: %q", line)
	}
}

func TestRenderRateNeedsASample(t *testing.T) {
	s := state{phase: Copying, known: true, sent: 50 << 20, toSend: 160 << 20, elapsed: time.Minute, sending: time.Millisecond}
	if line := render("x", s, 200); strings.Contains(line, "/s") {
		t.Errorf("a rate after 1ms: %q", line)
	}
}

func TestRenderPlanning(t *testing.T) {
	line := render("to reg/air", state{phase: Planning, elapsed: 2 * time.Second}, 80)
	if !strings.HasPrefix(line, "planning") || strings.Contains(line, "%") {
		t.Errorf("planning frame %q", line)
	}
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestFinishClearsTheLine(t *testing.T) {
	for _, escapes := range []bool{true, false} {
		var out syncBuf
		b := New(&out, "to reg/air", Options{Terminal: true, Escapes: escapes, Width: func() int { return 80 }, Interval: time.Millisecond})
		b.SetTotal(1000)
		b.Sent(500)
		time.Sleep(10 * time.Millisecond)
		b.Finish()
		b.Finish() // twice is fine
		got := out.String()
		if strings.Contains(got, "\x1b") != escapes {
			t.Errorf("escapes %v: output %q", escapes, got)
		}
		if escapes && !strings.HasSuffix(got, "\r\x1b[K") {
			t.Errorf("the line is not erased at the end: %q", got)
		}
		if !escapes {
			i := strings.LastIndex(got, "\r"+strings.Repeat(" ", 10))
			if i < 0 || strings.TrimRight(got[i:], " \r") != "" {
				t.Errorf("the line is not blanked at the end: %q", got)
			}
		}
		if strings.Contains(got, "\n") {
			t.Errorf("a newline in a terminal line: %q", got)
		}
	}
}

func TestNotATerminalWritesNothingToOut(t *testing.T) {
	var out syncBuf
	b := New(&out, "x", Options{})
	b.SetTotal(10)
	b.Sent(10)
	b.Finish()
	if out.String() != "" {
		t.Errorf("wrote %q", out.String())
	}
}

func TestMountsAndSkipsAreTakenOffWhatIsLeftToSend(t *testing.T) {
	b := New(&syncBuf{}, "x", Options{})
	defer b.Finish()
	b.SetTotal(160)
	b.Mounted(80)
	b.Skipped(30)
	b.Sent(50)
	s := b.snapshot()
	if s.toSend != 50 || s.fraction() != 1 {
		t.Errorf("toSend %d, fraction %v; want 50 and 1", s.toSend, s.fraction())
	}
}

func TestRenderFinishingOnceEveryByteIsSent(t *testing.T) {
	s := state{phase: Copying, known: true, sent: 50 << 20, toSend: 50 << 20, elapsed: 5 * time.Second, sending: 4 * time.Second}
	if line := render("x", s, 120); !strings.HasPrefix(line, "finishing") {
		t.Errorf("at 100%%: %q", line)
	}
	s.sent = 49 << 20
	if line := render("x", s, 120); !strings.HasPrefix(line, "copying") {
		t.Errorf("at 98%%: %q", line)
	}
}
