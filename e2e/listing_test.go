package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/ferry-oci/ferry/internal/faultproxy"
	"github.com/ferry-oci/ferry/internal/registrytest"
)

// maxListingRSS is what ferry may grow to while a registry floods it with
// tag pages.
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

// measureEnv makes the test binary run, instead of the tests, the command
// the variable names (JSON) and print its peak RSS. A process started by
// this big one would inherit its high-water mark: Linux keeps the largest
// RSS across exec, and os/exec starts children sharing the parent's memory
// until then. The test binary started afresh is small.
const measureEnv = "FERRY_E2E_MEASURE"

func measure(argv string) int {
	var args []string
	if err := json.Unmarshal([]byte(argv), &args); err != nil || len(args) == 0 {
		fmt.Fprintln(os.Stderr, "measure:", err)
		return 99
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stderr = os.Stderr
	err := cmd.Run()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		fmt.Fprintln(os.Stderr, "measure:", err)
		return 99
	}
	fmt.Printf("maxrss-kib=%d\n", cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss)
	return cmd.ProcessState.ExitCode()
}

// measured runs args through a fresh test binary (see measureEnv) and
// returns the exit code, stderr and peak RSS in bytes of the command.
func measured(t *testing.T, args ...string) (int, string, int64) {
	t.Helper()
	b, _ := json.Marshal(args)
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), measureEnv+"="+string(b))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	var kib int64
	if _, err := fmt.Sscanf(strings.TrimSpace(stdout.String()), "maxrss-kib=%d", &kib); err != nil || code == 99 {
		t.Fatalf("measuring %v: %q %v\n%s", args, stdout.String(), err, stderr.String())
	}
	return code, stderr.String(), kib << 10
}
