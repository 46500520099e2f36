package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// registry is a `ferry serve --root` process on loopback.
type registry struct {
	ferry, root, addr string
	log               io.Writer
	cmd               *exec.Cmd
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// start runs the registry and waits until it answers GET /v2/.
func (r *registry) start(ctx context.Context) error {
	if r.addr == "" {
		a, err := freeAddr()
		if err != nil {
			return err
		}
		r.addr = a
	}
	r.cmd = exec.Command(r.ferry, "serve", "--addr", r.addr, "--root", r.root)
	r.cmd.Stdout, r.cmd.Stderr = r.log, r.log
	if err := r.cmd.Start(); err != nil {
		return fmt.Errorf("starting ferry serve on %s: %w", r.addr, err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		resp, err := http.Get("http://" + r.addr + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	r.stop()
	return fmt.Errorf("ferry serve on %s did not answer within 15s", r.addr)
}

// stop ends the registry with SIGTERM (it finishes requests under way) and
// waits for it.
func (r *registry) stop() {
	if r.cmd == nil || r.cmd.Process == nil {
		return
	}
	r.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { r.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		r.cmd.Process.Kill()
		<-done
	}
	r.cmd = nil
}

// reset gives the registry an empty root: stop, remove the root, start again
// on the same address.
func (r *registry) reset(ctx context.Context) error {
	r.stop()
	if err := os.RemoveAll(r.root); err != nil {
		return err
	}
	return r.start(ctx)
}

// step is one command of a measured operation.
type step struct {
	Argv []string
	Dir  string
}

func cmdStep(argv ...string) step { return step{Argv: argv} }

func (s step) String() string { return strings.Join(s.Argv, " ") }

// usage is what one measured operation cost.
type usage struct {
	Seconds float64 // wall time of all steps, process start-up included
	PeakKiB int64   // the largest maximum resident set size of any step
	// AtPeak splits the largest resident set sampled in any step into
	// anonymous and file-backed memory; see watchChild.
	AtPeak memSplit
}

// timeCmd is GNU time, which reports a child's peak RSS.
const timeCmd = "/usr/bin/time"

// measure runs steps one after another, each under GNU time -v, and returns
// their total wall time, their largest peak RSS and the split of the largest
// RSS sampled while they ran. Output goes to log.
func measure(ctx context.Context, env []string, log io.Writer, steps []step) (usage, error) {
	var u usage
	tf, err := os.CreateTemp("", "bench-time-*")
	if err != nil {
		return u, err
	}
	tf.Close()
	defer os.Remove(tf.Name())
	// The command's stdout and stderr are copied by two goroutines.
	log = &lockedWriter{w: log}
	start := time.Now()
	for _, s := range steps {
		fmt.Fprintf(log, "$ %s\n", s)
		cmd := exec.CommandContext(ctx, timeCmd, append([]string{"-v", "-o", tf.Name()}, s.Argv...)...)
		cmd.Dir = s.Dir
		cmd.Env = env
		var errBuf bytes.Buffer
		cmd.Stdout = log
		cmd.Stderr = io.MultiWriter(log, &tailWriter{b: &errBuf, max: 2048})
		split, runErr := runWatched(cmd)
		if split.RSS > u.AtPeak.RSS {
			u.AtPeak = split
		}
		b, err := os.ReadFile(tf.Name())
		if err == nil {
			if kib, ok := parseMaxRSS(b); ok && kib > u.PeakKiB {
				u.PeakKiB = kib
			}
		}
		if runErr != nil {
			return u, fmt.Errorf("%s: %w: %s", s, runErr, strings.TrimSpace(errBuf.String()))
		}
	}
	u.Seconds = time.Since(start).Seconds()
	return u, nil
}

// runWatched runs cmd (GNU time and its command) and samples the memory of
// the command while it runs.
func runWatched(cmd *exec.Cmd) (memSplit, error) {
	if err := cmd.Start(); err != nil {
		return memSplit{}, err
	}
	stop, split := make(chan struct{}), make(chan memSplit, 1)
	go func() { split <- watchChild(cmd.Process.Pid, stop) }()
	err := cmd.Wait()
	close(stop)
	return <-split, err
}

// parseMaxRSS reads "Maximum resident set size (kbytes): N" from GNU time -v.
func parseMaxRSS(b []byte) (int64, bool) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if v, ok := strings.CutPrefix(line, "Maximum resident set size (kbytes):"); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}

// lockedWriter serialises writes to w.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// tailWriter keeps the last max bytes written to it.
type tailWriter struct {
	b   *bytes.Buffer
	max int
}

func (t *tailWriter) Write(p []byte) (int, error) {
	t.b.Write(p)
	if over := t.b.Len() - t.max; over > 0 {
		t.b.Next(over)
	}
	return len(p), nil
}

// install copies the binary src into dir with plain writes, as a package
// manager or a release archive installs it, and returns the copy's path.
// Every tool is measured from such a copy, because how a binary's file was
// written changes its peak RSS: the Go linker writes its output through a
// shared mapping, which leaves the file in the page cache in large folios,
// and the kernel then maps much more of it at the first touch of a page. ferry's 88 MB binary peaked at 83-88 MiB as `go build` wrote it and
// at 58-62 MiB as a copy (docs/benchmarks.md, "Memory").
func install(src, dir string) (string, error) {
	in, err := os.Open(src)
	if err != nil {
		return "", err
	}
	defer in.Close()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	dst := filepath.Join(dir, filepath.Base(src))
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return "", err
	}
	if _, err := io.Copy(struct{ io.Writer }{out}, in); err != nil { // no copy_file_range: write(2), as an installer does
		out.Close()
		return "", fmt.Errorf("installing %s: %w", src, err)
	}
	if err := out.Close(); err != nil {
		return "", fmt.Errorf("installing %s: %w", src, err)
	}
	return dst, nil
}
