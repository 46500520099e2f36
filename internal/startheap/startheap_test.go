package startheap

import (
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
)

// gcPercent reads the collector's GOGC without changing it.
func gcPercent() int {
	p := debug.SetGCPercent(0)
	debug.SetGCPercent(p)
	return p
}

// The test binary initialised this package, so until its first collection
// the percent is raised, and the first collection restores Go's default.
// Each case runs in a fresh process so that no earlier test collected.
func TestPercent(t *testing.T) {
	if mode := os.Getenv("STARTHEAP_CHILD"); mode != "" {
		child(t, mode)
		return
	}
	for _, c := range []struct{ mode, gogc string }{
		{"raised", ""},
		{"restored", ""},
		{"env", "50"},
	} {
		t.Run(c.mode, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestPercent$", "-test.v")
			cmd.Env = append(withoutGOGC(os.Environ()), "STARTHEAP_CHILD="+c.mode)
			if c.gogc != "" {
				cmd.Env = append(cmd.Env, "GOGC="+c.gogc)
			}
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%s: %v\n%s", c.mode, err, out)
			}
		})
	}
}

func withoutGOGC(env []string) []string {
	var out []string
	for _, e := range env {
		if !strings.HasPrefix(e, "GOGC=") {
			out = append(out, e)
		}
	}
	return out
}

func child(t *testing.T, mode string) {
	var st runtime.MemStats
	switch mode {
	case "raised":
		runtime.ReadMemStats(&st)
		if st.NumGC != 0 {
			// The test binary allocates far less than the raised first goal.
			t.Fatalf("the test binary collected %d times before the test ran", st.NumGC)
		}
		if got := gcPercent(); got != Percent {
			t.Fatalf("GOGC before the first collection = %d, want %d", got, Percent)
		}
	case "restored":
		runtime.GC()
		runtime.GC() // the finalizer runs after the collection that queued it
		for i := 0; i < 100 && gcPercent() != 100; i++ {
			runtime.Gosched()
			runtime.GC()
		}
		if got := gcPercent(); got != 100 {
			t.Fatalf("GOGC after the first collections = %d, want 100", got)
		}
	case "env":
		want, _ := strconv.Atoi(os.Getenv("GOGC"))
		runtime.GC()
		runtime.GC()
		if got := gcPercent(); got != want {
			t.Fatalf("GOGC with GOGC=%d in the environment = %d", want, got)
		}
	}
}
