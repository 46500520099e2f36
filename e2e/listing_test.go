package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/ferry-oci/ferry/internal/faultproxy"
	"github.com/ferry-oci/ferry/internal/registrytest"
)

// maxListingRSS is what ferry's own memory may grow to while a registry
// floods it with tag pages (see measured).
const maxListingRSS = 64 << 20

// TestTagPageBomb runs `ferry component get` against a registry whose tag
// lists are 3.7 MB pages that never end, and one whose page links to
// itself: ferry stops with an error naming the registry, within a bounded
// number of requests, and never grows past maxListingRSS.
func TestTagPageBomb(t *testing.T) {
	w := &world{t: t, ferry: ferryBinary(t), work: t.TempDir()}
	for _, tc := range []struct {
		name string
		lie  *faultproxy.TagPages
		want string
	}{
		{"endless", &faultproxy.TagPages{PageBytes: 3_700_000}, "larger than"},
		{"loop", &faultproxy.TagPages{PageBytes: 100_000, Loop: true}, "links back"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := registrytest.New(t, registrytest.WithHandlerWrapper(tc.lie.Wrap))
			code, stderr, rss := measured(t, w.ferry, "component", "get", "http://"+reg.Host+"/releases//example.com/podinfo", "--no-progress")
			if code != 1 {
				t.Fatalf("ferry component get: exit %d, want 1\n%s", code, stderr)
			}
			if !strings.Contains(stderr, reg.Host) || !strings.Contains(stderr, tc.want) {
				t.Errorf("the error does not name the registry %s and say %q:\n%s", reg.Host, tc.want, stderr)
			}
			if rss > maxListingRSS {
				t.Errorf("ferry grew to %d MiB, more than %d MiB", rss>>20, maxListingRSS>>20)
			}
			if n := tc.lie.Requests(); n > 10 {
				t.Errorf("%d tag pages requested", n)
			}
			t.Logf("RELIABILITY test=tag-pages-%s requests=%d rss-mib=%d", tc.name, tc.lie.Requests(), rss>>20)
		})
	}
}

// measured runs args and returns the exit code, stderr and the peak of
// that process's own anonymous memory (RssAnon: heap, stacks, buffers),
// sampled from /proc every 2 ms while it runs. File-backed pages (the
// binary's code and read-only data, shared and reclaimable, about 75 MiB
// since Helm and Kustomize are linked in) are not what a registry's answers
// can grow; and getrusage's ru_maxrss would also count the test binary the
// command was started from. Its VmHWM is logged beside it.
func measured(t *testing.T, args ...string) (int, string, int64) {
	t.Helper()
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc to read a process's peak memory from")
	}
	cmd := exec.CommandContext(t.Context(), args[0], args[1:]...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var peak, hwm int64
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for {
		anon, h := procMemory(cmd.Process.Pid)
		peak, hwm = max(peak, anon), max(hwm, h)
		select {
		case err := <-done:
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if peak == 0 {
				t.Fatalf("measuring %v: no RssAnon read", args)
			}
			t.Logf("%s: peak anonymous memory %d MiB, VmHWM (with the binary's pages) %d MiB", args[1], peak>>10, hwm>>10)
			return code, stderr.String(), peak << 10
		case <-tick.C:
		}
	}
}

// procMemory returns the anonymous resident memory and the peak resident
// set size (VmHWM) of process pid in KiB, or zeros when they cannot be read
// (the process has exited).
func procMemory(pid int) (anon, hwm int64) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, "RssAnon:"); ok {
			fmt.Sscanf(strings.TrimSpace(rest), "%d", &anon)
		}
		if rest, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			fmt.Sscanf(strings.TrimSpace(rest), "%d", &hwm)
		}
	}
	return anon, hwm
}
