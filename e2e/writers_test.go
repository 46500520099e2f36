package e2e

import (
	"bytes"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ferry-oci/ferry/ctf"
	"github.com/ferry-oci/ferry/internal/registrytest"
)

// raceSeeds is how many times two writers are started against one target
// (FERRY_RACE_SEEDS overrides it; make reliability runs more).
func raceSeeds(t *testing.T) int {
	if s := os.Getenv("FERRY_RACE_SEEDS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("FERRY_RACE_SEEDS=%q", s)
		}
		return n
	}
	return 20
}

const appRelease = "example.com/app:1.0.0"

// twoComponents is a world whose public registry holds the sample release
// and a second component, example.com/app:1.0.0.
func twoComponents(t *testing.T) *world {
	w := newWorld(t)
	constructor := filepath.Join(w.work, "app.yaml")
	os.WriteFile(constructor, []byte(fmt.Sprintf(`components:
- name: example.com/app
  version: 1.0.0
  provider:
    name: example.com
  resources:
  - name: busybox
    type: ociImage
    version: "1.36"
    access:
      type: ociArtifact
      imageReference: %s/library/busybox:1.36
`, w.public.Host)), 0o644)
	w.run("component", "create", "-f", constructor, "--to", "http://"+w.public.Host+"/releases")
	return w
}

// outcome is how one ferry run ended.
type outcome struct {
	code   int
	stderr string
}

// startBoth starts ferry with a and, after delay, with b, and waits for both.
func (w *world) startBoth(delay time.Duration, a, b []string) (outcome, outcome) {
	w.t.Helper()
	start := func(args []string) (*exec.Cmd, *bytes.Buffer) {
		cmd := exec.Command(w.ferry, append(args, "--no-progress")...)
		cmd.Dir = w.work
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			w.t.Fatal(err)
		}
		return cmd, &stderr
	}
	wait := func(cmd *exec.Cmd, stderr *bytes.Buffer) outcome {
		err := cmd.Wait()
		if ee, ok := err.(*exec.ExitError); ok {
			return outcome{ee.ExitCode(), stderr.String()}
		} else if err != nil {
			w.t.Fatal(err)
		}
		return outcome{0, stderr.String()}
	}
	ca, ea := start(a)
	time.Sleep(delay)
	cb, eb := start(b)
	return wait(ca, ea), wait(cb, eb)
}

// TestConcurrentWriters starts two transfers of different components into
// one CTF directory, two into one CTF tar, and two bundle creates of one
// path, at seeded moments apart, half of them with --lock-timeout: a run
// that exits 0 has its component in the result; one that fails says why
// (another run writes the path, or the file it would write exists).
func TestConcurrentWriters(t *testing.T) {
	w := twoComponents(t)
	src := "http://" + w.public.Host + "/releases//"
	seeds := raceSeeds(t)
	r := rand.New(rand.NewPCG(18, 2))
	for _, kind := range []string{"ctf-directory", "ctf-tar", "bundle-create"} {
		both, failed := 0, 0
		for i := range seeds {
			dir := filepath.Join(w.work, fmt.Sprintf("%s-%d", kind, i))
			os.Mkdir(dir, 0o755)
			target := filepath.Join(dir, "ctf")
			cmd := []string{"transfer"}
			switch kind {
			case "ctf-tar":
				target += ".tar"
			case "bundle-create":
				target = filepath.Join(dir, "bundle.tar")
				cmd = []string{"bundle", "create"}
			}
			args := func(ref string) []string {
				a := append(slices.Clone(cmd), src+ref)
				if kind == "bundle-create" {
					a = append(a, "-o", target)
				} else {
					a = append(a, target)
				}
				if i%2 == 1 {
					a = append(a, "--lock-timeout", "60s")
				}
				return a
			}
			delay := time.Duration(r.Int64N(int64(150 * time.Millisecond)))
			oa, ob := w.startBoth(delay, args(release), args(appRelease))
			for _, x := range []struct {
				ref string
				o   outcome
			}{{release, oa}, {appRelease, ob}} {
				if x.o.code == 0 {
					if !w.holds(kind, target, x.ref) {
						t.Fatalf("%s seed %d (%v apart): the run for %s exited 0, and %s does not hold it:\n%s", kind, i, delay, x.ref, target, x.o.stderr)
					}
					continue
				}
				failed++
				// The holder is named by its PID, or as "another process" when
				// it released the lock, or had not written its PID, by the
				// time the loser looked.
				if !strings.Contains(x.o.stderr, "is being written by ") && !strings.Contains(x.o.stderr, "exists") &&
					!strings.Contains(x.o.stderr, "opened for reading") {
					t.Fatalf("%s seed %d: the run for %s failed without saying why (exit %d):\n%s", kind, i, x.ref, x.o.code, x.o.stderr)
				}
			}
			if oa.code == 0 && ob.code == 0 {
				both++
			}
			if kind == "ctf-directory" && i%2 == 1 && (oa.code != 0 || ob.code != 0) {
				t.Fatalf("seed %d: with --lock-timeout both transfers into a directory must end with both components:\n%s\n%s", i, oa.stderr, ob.stderr)
			}
		}
		t.Logf("RELIABILITY test=race-%s seeds=%d both-written=%d failed-clearly=%d lost=0", kind, seeds, both, failed)
	}
}

// holds reports whether the CTF or bundle at target holds component version ref.
func (w *world) holds(kind, target, ref string) bool {
	w.t.Helper()
	if kind == "bundle-create" {
		out, _, code := w.exec("bundle", "inspect", target, "-o", "json")
		name, version, _ := strings.Cut(ref, ":")
		return code == 0 && strings.Contains(out, `"name": "`+name+`"`) && strings.Contains(out, `"version": "`+version+`"`)
	}
	_, _, code := w.exec("component", "get", target+"//"+ref, "-o", "json")
	return code == 0
}

// TestKillTransferIntoCTF kills `ferry transfer` into a CTF directory and
// into a CTF tar at random moments; the re-run reuses what the killed run
// staged, and leaves exactly the files an uninterrupted run leaves (a tar
// byte for byte the same).
func TestKillTransferIntoCTF(t *testing.T) {
	if testing.Short() {
		t.Skip("kills are slow")
	}
	w, src := bigWorld(t)
	for _, name := range []string{"ctf", "ctf.tar"} {
		clean := filepath.Join(w.work, "clean-"+name)
		os.Mkdir(clean, 0o755)
		start := time.Now()
		w.run("transfer", src, filepath.Join(clean, name))
		full := time.Since(start)
		want := listing(t, clean)
		kills, reused, strays := 0, 0, 0
		for i, d := range killPoints(full) {
			dir := filepath.Join(w.work, fmt.Sprintf("kill-%s-%d", name, i))
			os.Mkdir(dir, 0o755)
			target := filepath.Join(dir, name)
			// Every other seed killed twice, then run to the end: leftovers
			// must not pile up.
			for range 1 + (i+1)%2 {
				if w.killAfter(d, "transfer", src, target) {
					kills++
				}
			}
			if st, _ := ctf.Strays(target); len(st) > 0 {
				strays++
				out, _, _ := w.exec("bundle", "verify", target)
				in, _, _ := w.exec("bundle", "inspect", target)
				if !strings.Contains(out, "STRAY") || !strings.Contains(in, "stray:") {
					t.Errorf("after a kill, %s holds %v; verify and inspect do not mention them:\n%s\n%s", target, st, out, in)
				}
			}
			_, stderr, code := w.exec("transfer", src, target)
			if code != 0 {
				t.Fatalf("re-run after a kill at %v: exit %d\n%s", d, code, stderr)
			}
			if strings.Contains(stderr, "reused=") {
				reused++
			}
			if got := listing(t, dir); !slices.Equal(got, want) {
				t.Fatalf("killed at %v and run again, %s holds\n%v\nan uninterrupted run leaves\n%v", d, dir, got, want)
			}
			if name == "ctf.tar" && !bytes.Equal(readAll(t, target), readAll(t, filepath.Join(clean, name))) {
				t.Fatalf("killed at %v and run again, the tar differs from an uninterrupted run's:\n%s", d, tarDiff(t, target, filepath.Join(clean, name)))
			}
			if code := w.verifyClean(target); code != 0 {
				t.Fatalf("bundle verify of %s after the re-run: exit %d", target, code)
			}
		}
		if kills < killSeeds/2 {
			t.Fatalf("only %d runs into %s were killed before they ended", kills, name)
		}
		t.Logf("RELIABILITY test=kill-transfer-%s seeds=%d kills=%d survived=%d reused=%d strays-reported=%d", strings.ReplaceAll(name, ".", "-"), killSeeds, kills, kills, reused, strays)
	}
}

func (w *world) verifyClean(target string) int {
	out, _, code := w.exec("bundle", "verify", target)
	if strings.Contains(out, "STRAY") {
		w.t.Errorf("verify lists strays after a complete run:\n%s", out)
	}
	return code
}

func readAll(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// listing returns every file and directory under dir, relative, sorted.
func listing(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, de fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out = append(out, rel)
		return nil
	})
	slices.Sort(out)
	return out
}

// TestInterruptIsNotDamage sends SIGINT to `ferry bundle import` at seeded
// moments: the run ends as interrupted (exit 130) and asks to run it again,
// never calls the bundle damaged; the bundle verifies, and the run again
// completes.
func TestInterruptIsNotDamage(t *testing.T) {
	if testing.Short() {
		t.Skip("interrupts need a large bundle")
	}
	w, src := bigWorld(t)
	file := filepath.Join(w.work, "big.tar")
	w.run("bundle", "create", src, "-o", file)
	w.run("bundle", "import", file, "http://"+w.private.Host+"/air")
	r := rand.New(rand.NewPCG(18, 5))
	interrupted := 0
	const tries = 6
	for range tries {
		reg := registrytest.New(t)
		cmd := exec.Command(w.ferry, "bundle", "import", file, "http://"+reg.Host+"/air", "--no-progress")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		// Interrupted once a seeded number of blobs has reached the target:
		// in the middle of the copy, whatever the machine's speed.
		want := 1 + r.IntN(20)
		var err error
	wait:
		for {
			select {
			case err = <-done:
				break wait
			case <-time.After(2 * time.Millisecond):
				if len(reg.Requests().Filter("PUT", "/v2/air/")) >= want {
					cmd.Process.Signal(syscall.SIGINT)
					err = <-done
					break wait
				}
			}
		}
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		if strings.Contains(stderr.String(), "damaged") {
			t.Fatalf("an interrupted import calls the bundle damaged (exit %d):\n%s", code, stderr.String())
		}
		if code == 0 {
			continue
		}
		interrupted++
		if code != 130 || !strings.Contains(stderr.String(), "interrupted") || !strings.Contains(stderr.String(), "run the same command again") {
			t.Fatalf("interrupted import: exit %d, want 130 saying to run it again:\n%s", code, stderr.String())
		}
		w.run("bundle", "import", file, "http://"+reg.Host+"/air")
	}
	w.run("bundle", "verify", file)
	if interrupted < tries/2 {
		t.Fatalf("only %d of %d imports were interrupted before they ended", interrupted, tries)
	}
	t.Logf("RELIABILITY test=interrupt-bundle-import tries=%d interrupted=%d called-damaged=0", tries, interrupted)
}

// tarDiff says how two CTF tars differ: index entries and blobs.
func tarDiff(t *testing.T, a, b string) string {
	t.Helper()
	describe := func(p string) (map[string]bool, error) {
		c, err := ctf.Open(p, ctf.ReadOnly())
		if err != nil {
			return nil, err
		}
		defer c.Close()
		out := map[string]bool{}
		for _, e := range c.Entries() {
			out["entry "+e.String()+" "+string(e.MediaType)] = true
		}
		hs, _ := c.Blobs()
		for _, h := range hs {
			out["blob "+h.String()] = true
		}
		return out, nil
	}
	da, err1 := describe(a)
	db, err2 := describe(b)
	if err1 != nil || err2 != nil {
		return fmt.Sprint(err1, err2)
	}
	var diff []string
	for k := range da {
		if !db[k] {
			diff = append(diff, "only in the re-run: "+k)
		}
	}
	for k := range db {
		if !da[k] {
			diff = append(diff, "only in the clean run: "+k)
		}
	}
	slices.Sort(diff)
	return strings.Join(diff, "\n")
}
