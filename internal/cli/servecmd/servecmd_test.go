package servecmd

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ferry-oci/ferry/internal/cli"
	"github.com/ferry-oci/ferry/oci"
	"github.com/ferry-oci/ferry/oci/remote"
	"github.com/ferry-oci/ferry/oci/storetest"
)

// run runs ferry, with this serve, in process and returns its exit code,
// stdout and stderr.
func ferry(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := cli.Execute(t.Context(), args, &stdout, &stderr, Command)
	return code, stdout.String(), stderr.String()
}

func TestArgs(t *testing.T) {
	for _, c := range []struct{ in, want []string }{
		{nil, []string{"serve"}},
		{[]string{"-v", "--root", "x"}, []string{"serve", "-v", "--root", "x"}},
		{[]string{"__complete", "--r"}, []string{"__complete", "serve", "--r"}},
		{[]string{"__completeNoDesc", ""}, []string{"__completeNoDesc", "serve", ""}},
	} {
		if got := Args(c.in); !slices.Equal(got, c.want) {
			t.Errorf("Args(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestServeUsageErrorsExit2(t *testing.T) {
	for _, args := range [][]string{
		{"serve", "--tls-cert", "x"},
		{"serve", "extra"},
		{"serve", "--bogus"},
	} {
		code, _, stderr := ferry(t, args...)
		if code != 2 || !strings.HasPrefix(stderr, "ferry: ") {
			t.Errorf("%v: exit %d, want 2, stderr %q", args, code, stderr)
		}
	}
}

func TestServeBrokenConfig(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "registry.yml")
	os.WriteFile(cfg, []byte("version: 0.1\nstorage:\n  s4: {}\nhttp:\n  addr: 127.0.0.1:0\n"), 0o600)
	code, _, stderr := ferry(t, "serve", "--config", cfg)
	if code != 1 && code != 2 {
		t.Fatalf("exit %d, want 1 or 2", code)
	}
	if !strings.Contains(stderr, "storage") || !strings.Contains(stderr, "s4") || strings.Contains(stderr, "panic") {
		t.Errorf("stderr %q does not name the bad key", stderr)
	}
}

func TestServeKeepsDataAcrossRestart(t *testing.T) {
	root := filepath.Join(t.TempDir(), "data")
	start := func() (string, context.CancelFunc, chan int) {
		ctx, cancel := context.WithCancel(t.Context())
		r, w, _ := os.Pipe()
		done := make(chan int, 1)
		go func() {
			done <- cli.Execute(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--root", root}, w, w, Command)
			w.Close()
		}()
		buf := make([]byte, 512)
		n, _ := r.Read(buf)
		line := string(buf[:n])
		i := strings.Index(line, "http://")
		if i < 0 {
			t.Fatalf("serve printed %q", line)
		}
		return strings.Fields(line[i+len("http://"):])[0], cancel, done
	}
	host, stop, done := start()
	s, _ := remote.New()
	img := storetest.NewImage(1, 100)
	img.Push(t.Context(), t, s, host+"/keep")
	r, _ := oci.ParseRef(host + "/keep:1")
	if err := s.Tag(t.Context(), r, img.Desc); err != nil {
		t.Fatal(err)
	}
	stop()
	if code := <-done; code != 0 {
		t.Fatalf("serve exited %d on SIGINT-like cancel", code)
	}
	host, stop, done = start()
	defer func() { stop(); <-done }()
	r, _ = oci.ParseRef(host + "/keep:1")
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	d, err := s.Resolve(ctx, r)
	if err != nil || d.Digest != img.Desc.Digest {
		t.Fatalf("after a restart keep:1 = %v, %v", d.Digest, err)
	}
}
