package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/creack/pty"

	"github.com/ferry-oci/ferry/internal/registrytest"
	"github.com/ferry-oci/ferry/internal/testimage"
	"github.com/ferry-oci/ferry/oci/remote"
)

// throttled slows blob downloads to about rate bytes a second, so that a
// copy lasts long enough to draw frames and be interrupted.
func throttled(rate int) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/blobs/") {
				w = &slowWriter{ResponseWriter: w, rate: rate}
			}
			next.ServeHTTP(w, r)
		})
	}
}

type slowWriter struct {
	http.ResponseWriter
	rate int
}

func (s *slowWriter) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		chunk := min(len(p), 32<<10)
		m, err := s.ResponseWriter.Write(p[:chunk])
		n += m
		if err != nil {
			return n, err
		}
		if f, ok := s.ResponseWriter.(http.Flusher); ok {
			f.Flush()
		}
		time.Sleep(time.Duration(chunk) * time.Second / time.Duration(s.rate))
		p = p[chunk:]
	}
	return n, nil
}

// Unwrap lets distribution's handlers reach the underlying writer.
func (s *slowWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// slowRelease publishes a release of about 6 MiB of images in a registry
// that sends each blob at 640 KiB/s, and returns its reference.
func slowRelease(t *testing.T) (*world, string) {
	w := &world{t: t, ferry: ferryBinary(t), public: registrytest.New(t, registrytest.WithHandlerWrapper(throttled(640<<10))),
		private: registrytest.New(t), work: t.TempDir()}
	s, _ := remote.New()
	corpus := testimage.Corpus(3, testimage.Size(6<<20))
	if _, err := corpus.Push(t.Context(), s, w.public.Host); err != nil {
		t.Fatal(err)
	}
	var res strings.Builder
	for _, n := range corpus {
		fmt.Fprintf(&res, "  - name: %s\n    type: ociImage\n    version: \"1.0\"\n    access:\n      type: ociArtifact\n      imageReference: %s/%s:%s\n",
			strings.ReplaceAll(strings.TrimPrefix(n.Name, "bench/"), "/", "-"), w.public.Host, n.Name, n.Tag)
	}
	constructor := filepath.Join(w.work, "slow.yaml")
	os.WriteFile(constructor, []byte("components:\n- name: example.com/slow\n  version: 1.0.0\n  provider:\n    name: example.com\n  resources:\n"+res.String()), 0o644)
	w.run("component", "create", "-f", constructor, "--to", "http://"+w.public.Host+"/releases", "--creation-time", "2026-01-01T00:00:00Z")
	return w, "http://" + w.public.Host + "/releases//example.com/slow:1.0.0"
}

// ttyRun is one run of ferry with stderr on a pseudo-terminal.
type ttyRun struct {
	term   *terminal
	raw    []byte
	stdout string
	code   int
}

// inTerminal runs ferry with stderr (and stdin) on a pseudo-terminal of
// cols columns and stdout in a pipe, as `ferry … > out.json` in a terminal
// does. interrupt, when set, is called with a function that reports
// whether the screen shows text yet, and returns when ferry should get
// SIGINT.
func (w *world) inTerminal(cols int, env []string, interrupt func(seen func(string) bool), args ...string) ttyRun {
	w.t.Helper()
	cmd := exec.Command(w.ferry, args...)
	cmd.Dir = w.work
	cmd.Env = append(os.Environ(), "TERM=xterm")
	cmd.Env = append(cmd.Env, env...)
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Cols: uint16(cols), Rows: 50})
	if err != nil {
		w.t.Fatal(err)
	}
	defer f.Close()
	var mu sync.Mutex
	var raw bytes.Buffer
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		buf := make([]byte, 4096)
		for {
			n, err := f.Read(buf)
			mu.Lock()
			raw.Write(buf[:n])
			mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	if interrupt != nil {
		interrupt(func(s string) bool {
			mu.Lock()
			defer mu.Unlock()
			return bytes.Contains(raw.Bytes(), []byte(s))
		})
		cmd.Process.Signal(syscall.SIGINT)
	}
	err = cmd.Wait()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		w.t.Fatal(err)
	}
	select {
	case <-readDone:
	case <-time.After(5 * time.Second):
	}
	mu.Lock()
	defer mu.Unlock()
	t := newTerminal(cols)
	io.Copy(t, bytes.NewReader(raw.Bytes()))
	return ttyRun{term: t, raw: bytes.Clone(raw.Bytes()), stdout: stdout.String(), code: code}
}

// checkFrames fails unless every progress frame fits in cols-1 columns and
// the screen never wrapped.
func checkFrames(t *testing.T, r ttyRun, cols int) {
	t.Helper()
	if len(r.term.unknown) > 0 {
		t.Errorf("unexpected control sequences: %v", r.term.unknown)
	}
	for _, f := range r.term.frames {
		if n := utf8.RuneCountInString(f); n > cols-1 {
			t.Errorf("a frame of %d columns on a %d-column terminal: %q", n, cols, f)
		}
	}
}

func TestProgressInATerminal(t *testing.T) {
	if testing.Short() {
		t.Skip("drives transfers of several MiB")
	}
	w, src := slowRelease(t)
	for _, cols := range []int{80, 200} {
		t.Run(fmt.Sprintf("%d columns", cols), func(t *testing.T) {
			w.t = t
			dst := fmt.Sprintf("http://%s/air%d", w.private.Host, cols)
			r := w.inTerminal(cols, nil, nil, "transfer", src, dst, "-o", "json")
			if r.code != 0 {
				t.Fatalf("exit %d:\n%s", r.code, r.raw)
			}
			checkFrames(t, r, cols)
			if r.term.wraps > 0 {
				t.Errorf("the screen wrapped %d times:\n%q", r.term.wraps, r.raw)
			}
			var planning, copying, numbers, rate, bar bool
			for i, f := range r.term.frames {
				planning = planning || strings.HasPrefix(f, "planning")
				if strings.HasPrefix(f, "copying") {
					if !copying && strings.Contains(f, "/s") {
						t.Errorf("the first copying frame shows a rate: %q", f)
					}
					copying = true
					numbers = numbers || strings.Contains(f, "%") && strings.Contains(f, "MiB/")
					rate = rate || strings.Contains(f, "MiB/s") || strings.Contains(f, "KiB/s")
					bar = bar || strings.Contains(f, "[=")
					if strings.Contains(f, " MB") || strings.Contains(f, " GB") {
						t.Errorf("frame %d uses decimal units: %q", i, f)
					}
				}
			}
			if !planning || !copying || !numbers || !rate {
				t.Errorf("frames lack planning %v, copying %v, percent and sizes %v, a rate %v:\n%s", planning, copying, numbers, rate, strings.Join(r.term.frames, "\n"))
			}
			if cols == 200 && !bar {
				t.Errorf("no bar at 200 columns:\n%s", strings.Join(r.term.frames, "\n"))
			}
			if s := r.term.screen(); len(s) != 0 {
				t.Errorf("the progress line stays on screen after success: %q", s)
			}
			if !strings.Contains(r.stdout, `"bytesCopied"`) {
				t.Errorf("stdout: %s", r.stdout)
			}
			if bytes.Contains([]byte(r.stdout), []byte("\x1b")) {
				t.Error("escape codes in stdout")
			}

			// Interrupted while copying: the line is cleared, the error starts on a clean line, exit 130.
			r = w.inTerminal(cols, nil, func(seen func(string) bool) {
				deadline := time.Now().Add(20 * time.Second)
				for !seen("copying") && time.Now().Before(deadline) {
					time.Sleep(20 * time.Millisecond)
				}
				time.Sleep(300 * time.Millisecond)
			}, "transfer", src, dst+"-stopped")
			checkFrames(t, r, cols)
			if r.code != 130 {
				t.Errorf("interrupted: exit %d, want 130:\n%s", r.code, r.raw)
			}
			s := r.term.screen()
			if len(s) == 0 || !strings.HasPrefix(s[0], "ferry: interrupted") {
				t.Errorf("after an interrupt the screen is %q, want the error from the first column", s)
			}
			if !strings.Contains(strings.Join(s, ""), "hint: run the same command again") {
				t.Errorf("no hint to resume: %q", s)
			}
		})
	}
}

// TestProgressWithoutEscapes: NO_COLOR on a terminal, and stderr that is no
// terminal, get no escape codes at all.
func TestProgressWithoutEscapes(t *testing.T) {
	if testing.Short() {
		t.Skip("drives transfers of several MiB")
	}
	w, src := slowRelease(t)
	r := w.inTerminal(80, []string{"NO_COLOR=1"}, nil, "transfer", src, "http://"+w.private.Host+"/nocolor", "-o", "json")
	if r.code != 0 {
		t.Fatalf("exit %d:\n%s", r.code, r.raw)
	}
	checkFrames(t, r, 80)
	if r.term.escapes > 0 {
		t.Errorf("NO_COLOR: %d escape sequences written: %q", r.term.escapes, r.raw)
	}
	if len(r.term.frames) == 0 {
		t.Error("NO_COLOR: no progress at all")
	}
	if s := r.term.screen(); len(s) != 0 {
		t.Errorf("NO_COLOR: the line stays on screen: %q", s)
	}

	cmd := exec.Command(w.ferry, "transfer", src, "http://"+w.private.Host+"/redirected")
	cmd.Env = append(os.Environ(), "TERM=xterm")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if bytes.Contains(out, []byte("\x1b")) || bytes.Contains(out, []byte("\r")) {
		t.Errorf("redirected output holds escape codes or carriage returns: %q", out)
	}
}
