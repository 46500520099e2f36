// Command bench is `make bench`: it measures ferry against crane, regctl and
// skopeo on the same generated corpus, on this machine, and writes the
// result into docs/benchmarks.md (between its generated-section markers) and
// docs/benchmarks.json.
//
//	go run ./hack/bench -size small -runs 5
//	go run ./hack/bench upload -registry 127.0.0.1:5001 -jobs 8 ROOT   (the upload floor, as a process)
//	go run ./hack/bench profile -cpu cpu.pprof -- transfer SRC DST   (ferry in process, under pprof)
//
// It starts two `ferry serve --root` registries on loopback (a source and a
// target, with a counting reverse proxy in front of the target), pushes the
// seeded corpus of internal/testimage into the source, wraps it in a component
// version (`ferry component create`), and then, -runs times, with the tools'
// order rotated every run and the target emptied before every measured copy
// or import (fresh root, registry restarted), times:
//
//	copy    registry → registry: ferry transfer; crane copy and regctl image copy
//	        once per image, as a user loops over them; skopeo sync
//	rerun   the same copy again, with nothing to copy
//	export  registry → one tar file: ferry bundle create; crane pull --format=oci,
//	        regctl image copy to ocidir, skopeo copy to oci, each followed by tar
//	import  that file → registry: ferry bundle import; the peers untar and push
//	        (crane push --index keeps no names; crane+names copies each image
//	        back to its name)
//	floors  cp and tar of the source's blob files; the unique blobs downloaded
//	        from the source by a plain HTTP client (GET, -jobs at a time) and
//	        uploaded to the target (POST + monolithic PUT, 1 and -jobs at a time)
//
// Each command runs under GNU time -v (/usr/bin/time) for its peak RSS;
// while it runs, its /proc/<pid>/status is sampled every few milliseconds
// and the largest sample is split into anonymous, file-backed and shared
// memory, since the file-backed part (a binary's resident text) swings with
// the page cache.
// The proxy counts the bytes the target receives; the target root's blob
// bytes are what it stores. With -big SIZE (default 2GiB with the default
// corpus, none with small) it also runs ferry bundle create and import of one
// image with a single layer of that size, for the memory goal.
//
// Peers come from the Go module proxy at pinned versions, installed into
// -gobin (crane, regctl); skopeo is used when installed. A peer that cannot be
// installed is recorded as such and the run goes on.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/ferry-oci/ferry/internal/testimage"
	"github.com/ferry-oci/ferry/oci/remote"
)

// Pinned peers.
var peers = []struct{ name, pkg string }{
	{toolCrane, "github.com/google/go-containerregistry/cmd/crane@v0.22.1"},
	{toolRegctl, "github.com/regclient/regclient/cmd/regctl@v0.11.7"},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	var code int
	sub := ""
	if len(os.Args) > 1 {
		sub = os.Args[1]
	}
	switch sub {
	case "upload":
		code = runUpload(ctx, os.Args[2:], os.Stderr)
	case "profile":
		code = runProfile(ctx, os.Args[2:], os.Stdout, os.Stderr)
	case "auth":
		code = runAuth(ctx, os.Args[2:], os.Stdout, os.Stderr)
	default:
		code = run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	}
	stop()
	os.Exit(code)
}

type config struct {
	ferry, gobin, work, doc, jsonOut string
	profiles                         string // directory for the profiled runs' pprof files, "" for none
	size, big                        testimage.Size
	wide                             bool // BENCH_SIZE=wide: the scale bench (wide.go)
	seed                             int64
	runs, jobs                       int
	tools                            []string
	keep                             bool
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.ferry, "ferry", "bin/ferry", "the ferry binary to measure")
	fs.StringVar(&c.gobin, "gobin", ".bench/bin", "where the pinned peers are installed")
	fs.StringVar(&c.work, "work", ".bench/work", "scratch directory (emptied first, removed after unless -keep)")
	fs.StringVar(&c.doc, "doc", "docs/benchmarks.md", "Markdown file whose generated section is replaced (\"\" for none)")
	fs.StringVar(&c.jsonOut, "json", "docs/benchmarks.json", "JSON copy of the results (\"\" for none)")
	size := fs.String("size", envOr("BENCH_SIZE", "default"), "corpus size: small, default or a size (2GiB, bytes); wide for the scale bench (1,000 small images)")
	big := fs.String("big", envOr("BENCH_BIG", "auto"), "single-layer size for the memory check, 0 for none; auto: 2GiB unless the corpus is small")
	fs.Int64Var(&c.seed, "seed", 1, "corpus seed")
	fs.IntVar(&c.runs, "runs", 5, "runs of every case")
	fs.IntVar(&c.jobs, "jobs", 8, "ferry's concurrency (its --jobs default), also used by the parallel upload floor")
	tools := fs.String("tools", "ferry,crane,regctl,skopeo", "tools to measure, comma-separated")
	fs.BoolVar(&c.keep, "keep", false, "keep the scratch directory")
	fs.StringVar(&c.profiles, "profile", envOr("BENCH_PROFILE", ".bench/profiles"),
		"after the timed runs, run each ferry case once more, built with -tags ferrybench, and write its CPU and allocation profiles here (\"\" or \"none\" for none)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	var err error
	if *size == "wide" {
		c.wide, *big = true, "0"
	} else if c.size, err = testimage.ParseSize(*size); err != nil {
		return c, err
	}
	switch *big {
	case "auto":
		if c.size > testimage.Small {
			c.big = 2 << 30
		}
	case "0", "":
	default:
		if c.big, err = testimage.ParseSize(*big); err != nil {
			return c, fmt.Errorf("-big: %w", err)
		}
	}
	if c.runs < 1 {
		return c, errors.New("-runs must be at least 1")
	}
	c.tools = strings.Split(*tools, ",")
	if !slices.Contains(c.tools, toolFerry) {
		return c, errors.New("-tools must include ferry")
	}
	return c, nil
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 2
	}
	b := &bench{cfg: c, stderr: stderr, results: map[string]*Result{}}
	if err := b.run(ctx); err != nil {
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 1
	}
	fmt.Fprint(stdout, b.markdown)
	return 0
}

type bench struct {
	cfg     config
	stderr  io.Writer
	log     *os.File
	env     []string
	s       setup
	src     *registry
	dst     *registry
	proxy   *countingProxy
	report  Report
	results map[string]*Result
	order   []string // keys of results in the order met

	markdown string
}

func (b *bench) logf(format string, a ...any) {
	msg := fmt.Sprintf(format, a...)
	fmt.Fprintf(b.stderr, "bench: %s\n", msg)
	fmt.Fprintf(b.log, "# %s\n", msg)
}

func (b *bench) run(ctx context.Context) (err error) {
	c := &b.cfg
	start := time.Now()
	if _, err := os.Stat(timeCmd); err != nil {
		return fmt.Errorf("%s is missing (apt-get install time): it measures peak RSS", timeCmd)
	}
	if c.ferry, err = filepath.Abs(c.ferry); err != nil {
		return err
	}
	if _, err := os.Stat(c.ferry); err != nil {
		return fmt.Errorf("ferry binary: %w (run make build)", err)
	}
	if c.work, err = filepath.Abs(c.work); err != nil {
		return err
	}
	if err := os.RemoveAll(c.work); err != nil {
		return err
	}
	home := filepath.Join(c.work, "home")
	for _, d := range []string{home, filepath.Join(c.work, "out")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	if !c.keep {
		defer os.RemoveAll(c.work)
	}
	// ferry serve runs ferry-serve from beside ferry (internal/cli/serve.go).
	if _, err = install(filepath.Join(filepath.Dir(c.ferry), "ferry-serve"), filepath.Join(c.work, "bin")); err != nil {
		return fmt.Errorf("%w (make build builds ferry-serve beside ferry)", err)
	}
	if c.ferry, err = install(c.ferry, filepath.Join(c.work, "bin")); err != nil {
		return err
	}
	if b.log, err = os.Create(filepath.Join(filepath.Dir(c.work), "bench.log")); err != nil {
		return err
	}
	defer b.log.Close()
	// The peers get their own HOME, so that no user configuration changes
	// what they do and nothing they write lands outside the scratch directory.
	b.env = append(os.Environ(), "HOME="+home, "XDG_RUNTIME_DIR="+home, "DOCKER_CONFIG="+filepath.Join(home, ".docker"))

	b.report = Report{
		Date:    start.UTC().Format(time.RFC3339),
		Machine: machineInfo(),
		Runs:    c.runs,
		Jobs:    c.jobs,
		Tools:   map[string]string{},
	}
	b.report.LoadBefore = loadAvg()
	b.s = setup{ferry: c.ferry, jobs: c.jobs, out: filepath.Join(c.work, "out"), comp: "bench.ferry.dev/corpus:1.0.0"}
	if b.s.self, err = os.Executable(); err != nil {
		return err
	}
	tools := b.findTools(ctx)

	b.src = &registry{ferry: c.ferry, root: filepath.Join(c.work, "src"), log: b.log}
	if err := b.src.start(ctx); err != nil {
		return err
	}
	defer b.src.stop()
	b.s.src, b.s.srcRoot = b.src.addr, b.src.root
	if c.wide {
		return b.wide(ctx, tools, start)
	}
	corpus := testimage.Corpus(c.seed, c.size)
	b.report.Corpus = corpusInfo(c.seed, corpus)
	b.logf("seeding %s into %s", corpus.Stats(), b.src.addr)
	if b.s.images, err = b.seed(ctx, corpus, "corpus", "1.0.0"); err != nil {
		return err
	}
	if err := b.s.writeSkopeoFiles(c.work); err != nil {
		return err
	}

	b.dst = &registry{ferry: c.ferry, root: filepath.Join(c.work, "dst"), log: b.log}
	if err := b.dst.start(ctx); err != nil {
		return err
	}
	defer func() { b.dst.stop() }()
	if b.proxy, err = startProxy(b.dst.addr); err != nil {
		return err
	}
	defer b.proxy.close()
	b.s.dst = b.proxy.addr

	for i := range c.runs {
		order := rotate(tools, i)
		b.logf("run %d/%d: %s", i+1, c.runs, strings.Join(order, ", "))
		if err := b.runOnce(ctx, order); err != nil {
			return err
		}
	}
	if c.profiles != "" && c.profiles != "none" {
		if err := b.profile(ctx); err != nil {
			return err
		}
	}
	if c.big > 0 {
		if err := b.bigLayer(ctx); err != nil {
			return err
		}
	}
	b.report.LoadAfter = loadAvg()
	b.report.Seconds = time.Since(start).Seconds()
	b.summarise()
	b.markdown = renderMarkdown(&b.report)
	if c.doc != "" {
		if err := updateDoc(c.doc, b.markdown); err != nil {
			return err
		}
	}
	if c.jsonOut != "" {
		j, err := json.MarshalIndent(&b.report, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(c.jsonOut, append(j, '\n'), 0o644); err != nil {
			return err
		}
	}
	b.logf("done in %s", time.Since(start).Round(time.Second))
	return nil
}

// wide runs the scale bench (wide.go) and writes its own section of the
// docs and its own JSON file.
func (b *bench) wide(ctx context.Context, tools []string, start time.Time) error {
	c := b.cfg
	b.report.Corpus = Corpus{Seed: c.seed}
	b.dst = &registry{ferry: c.ferry, root: filepath.Join(c.work, "dst"), log: b.log}
	if err := b.dst.start(ctx); err != nil {
		return err
	}
	defer func() { b.dst.stop() }()
	var err error
	if b.proxy, err = startProxy(b.dst.addr); err != nil {
		return err
	}
	defer b.proxy.close()
	b.s.dst = b.proxy.addr
	if err := b.runWide(ctx, tools); err != nil {
		return err
	}
	b.report.LoadAfter = loadAvg()
	b.report.Seconds = time.Since(start).Seconds()
	b.markdown = renderWide(&b.report)
	if c.doc != "" {
		if err := updateDocSection(c.doc, docWideBegin, docWideEnd, b.markdown); err != nil {
			return err
		}
	}
	if c.jsonOut != "" {
		j, err := json.MarshalIndent(&b.report, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(strings.TrimSuffix(c.jsonOut, ".json")+"-wide.json", append(j, '\n'), 0o644); err != nil {
			return err
		}
	}
	b.logf("done in %s", time.Since(start).Round(time.Second))
	return nil
}

// findTools installs the pinned peers and returns the tools to measure.
func (b *bench) findTools(ctx context.Context) []string {
	c := b.cfg
	out := []string{toolFerry}
	b.report.Tools[toolFerry] = firstLine(exec.CommandContext(ctx, c.ferry, "version").Output())
	gobin, _ := filepath.Abs(c.gobin)
	for _, p := range peers {
		if !slices.Contains(c.tools, p.name) {
			continue
		}
		bin := filepath.Join(gobin, p.name)
		cmd := exec.CommandContext(ctx, "go", "install", p.pkg)
		cmd.Env = append(os.Environ(), "GOBIN="+gobin, "GOTOOLCHAIN=local")
		cmd.Dir = os.TempDir() // outside the module: go install pkg@version ignores go.mod anyway
		if o, err := cmd.CombinedOutput(); err != nil {
			b.report.Tools[p.name] = "not measured: go install " + p.pkg + " failed: " + lastLine(o)
			b.logf("%s", b.report.Tools[p.name])
			continue
		}
		bin, err := install(bin, filepath.Join(c.work, "bin"))
		if err != nil {
			b.report.Tools[p.name] = "not measured: " + err.Error()
			b.logf("%s", b.report.Tools[p.name])
			continue
		}
		_, ver, _ := strings.Cut(p.pkg, "@")
		b.report.Tools[p.name] = p.pkg[:strings.LastIndex(p.pkg, "/cmd/")] + " " + ver
		out = append(out, p.name)
		switch p.name {
		case toolCrane:
			b.s.crane = bin
		case toolRegctl:
			b.s.regctl = bin
		}
	}
	if slices.Contains(c.tools, toolSkopeo) {
		if p, err := exec.LookPath("skopeo"); err == nil {
			b.s.skopeo = p
			b.report.Tools[toolSkopeo] = firstLine(exec.CommandContext(ctx, p, "--version").Output())
			out = append(out, toolSkopeo)
		} else {
			b.report.Tools[toolSkopeo] = "not installed"
		}
	}
	return out
}

// seed pushes set into the source registry and wraps it in the component
// version bench.ferry.dev/<comp>:<version> under src/ocm.
func (b *bench) seed(ctx context.Context, set testimage.Set, comp, version string) ([]image, error) {
	store, err := remote.New(remote.WithPlainHTTP(true))
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	ds, err := set.Push(ctx, store, b.src.addr)
	if err != nil {
		return nil, fmt.Errorf("seeding the source registry: %w", err)
	}
	b.logf("seeded %d artifacts in %s", len(ds), time.Since(t0).Round(time.Millisecond))
	var ims []image
	var cons strings.Builder
	fmt.Fprintf(&cons, "name: bench.ferry.dev/%s\nversion: %s\nprovider:\n  name: ferry-bench\nresources:\n", comp, version)
	for i, n := range set {
		ims = append(ims, image{Name: n.Name, Tag: n.Tag, Digest: ds[i].Digest.String()})
		fmt.Fprintf(&cons, "- name: %s\n  type: ociImage\n  version: %q\n  relation: external\n  access:\n    type: ociArtifact\n    imageReference: %s/%s:%s\n",
			filepath.Base(n.Name), n.Tag, b.src.addr, n.Name, n.Tag)
	}
	file := filepath.Join(b.cfg.work, comp+"-constructor.yaml")
	if err := os.WriteFile(file, []byte(cons.String()), 0o644); err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, b.cfg.ferry, "component", "create", "--no-progress", "-f", file,
		"--to", "http://"+b.src.addr+"/ocm", "--creation-time", "2026-01-01T00:00:00Z")
	if o, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("ferry component create: %w: %s", err, o)
	}
	return ims, nil
}

// record measures steps as tool's case c and keeps the figures. It empties
// the proxy's counters first; fill adds what only the caller knows.
func (b *bench) record(ctx context.Context, c, tool string, steps []step, fill func(*Sample)) bool {
	key := c + "/" + tool
	r := b.results[key]
	if r == nil {
		r = &Result{Case: c, Tool: tool}
		b.results[key] = r
		b.order = append(b.order, key)
	}
	if r.Error != "" {
		return false
	}
	// Flush what earlier steps left dirty in the page cache (an exported
	// file, an unpacked layout), so that no tool pays for another's
	// writeback. Tools that sync their own output pay for that themselves.
	syscall.Sync()
	b.proxy.reset()
	u, err := measure(ctx, b.env, b.log, steps)
	if err != nil {
		r.Error = err.Error()
		b.logf("%s %s: %v", c, tool, err)
		return false
	}
	s := Sample{Seconds: u.Seconds, PeakMiB: float64(u.PeakKiB) / 1024, AtPeak: u.AtPeak.mib()}
	s.Received, s.Requests = b.proxy.reset()
	if fill != nil {
		fill(&s)
	}
	r.Samples = append(r.Samples, s)
	fmt.Fprintf(b.stderr, "bench:   %-7s %-28s %7.2fs %6.1f MiB %8.1f MB received\n", c, tool, s.Seconds, s.PeakMiB, float64(s.Received)/1e6)
	return true
}

func (b *bench) stored(s *Sample) {
	n, err := blobBytes(b.dst.root)
	if err == nil {
		s.Stored = n
	}
}

// landed fills in what the target holds after tool copied or imported the
// corpus: stored bytes and the images found under their names.
func (b *bench) landed(ctx context.Context, c, tool string) func(*Sample) {
	return func(s *Sample) {
		b.stored(s)
		s.Names = b.names(ctx, tool, c == caseCopy || c == caseRerun)
	}
}

// rerunSamples is how many times a run measures the re-run after each copy.
// A re-run takes tens of milliseconds, where one sample moves by a quarter
// with the machine's noise; five a run cost under a second.
const rerunSamples = 5

func (b *bench) runOnce(ctx context.Context, order []string) error {
	for _, tool := range order {
		if err := b.dst.reset(ctx); err != nil {
			return err
		}
		if b.record(ctx, caseCopy, tool, b.s.copySteps(tool), b.landed(ctx, caseCopy, tool)) {
			for range rerunSamples {
				if !b.record(ctx, caseRerun, tool, b.s.copySteps(tool), b.landed(ctx, caseRerun, tool)) {
					break
				}
			}
		}
	}
	for _, tool := range order {
		ok := b.record(ctx, caseExport, tool, b.s.exportSteps(tool), func(s *Sample) {
			if fi, err := os.Stat(b.s.exportFile(tool)); err == nil {
				s.Written = fi.Size()
			}
		})
		imports := []string{tool}
		if tool == toolCrane {
			imports = append(imports, toolCraneNames)
		}
		for _, it := range imports {
			if !ok {
				break
			}
			if err := b.dst.reset(ctx); err != nil {
				return err
			}
			b.record(ctx, caseImport, it, b.s.importSteps(it), b.landed(ctx, caseImport, it))
			os.RemoveAll(filepath.Join(b.s.out, it+"-unpacked"))
		}
		if err := clearDir(b.s.out); err != nil {
			return err
		}
	}
	for _, f := range []string{floorCopy, floorTar, fmt.Sprintf(floorDownload, b.cfg.jobs), floorUpload1, fmt.Sprintf(floorUploadJobs, b.cfg.jobs), fmt.Sprintf(floorRelay, b.cfg.jobs)} {
		c := caseExport
		if strings.Contains(f, "upload") || strings.Contains(f, "relay") {
			c = caseCopy
			if err := b.dst.reset(ctx); err != nil {
				return err
			}
		}
		b.record(ctx, c, f, b.s.floorSteps(f), func(s *Sample) {
			if c == caseCopy {
				b.stored(s)
			}
		})
		if err := clearDir(b.s.out); err != nil {
			return err
		}
	}
	return nil
}

// bigLayer is the memory check: ferry bundle create and import of one image
// with a single layer of cfg.big bytes.
func (b *bench) bigLayer(ctx context.Context) error {
	set := testimage.Set{{Name: "bench/big", Tag: "1.0", Artifact: testimage.Image{
		Platform: platformAMD64,
		Layers:   []testimage.Layer{{Seed: uint64(b.cfg.seed)<<8 | 0xb1, Size: int64(b.cfg.big)}},
	}}}
	b.report.Corpus.BigLayer = int64(b.cfg.big)
	b.logf("memory check: one image with a single layer (%s)", set.Stats())
	if _, err := b.seed(ctx, set, "big", "1.0.0"); err != nil {
		return err
	}
	s := b.s
	s.comp = "bench.ferry.dev/big:1.0.0"
	file := filepath.Join(s.out, "big.tar")
	big := func(c string) string { return c + "-big" }
	if b.record(ctx, big(caseExport), toolFerry, []step{cmdStep(s.ferry, "bundle", "create", "--no-progress",
		"http://"+s.src+"/ocm//"+s.comp, "-o", file)}, nil) {
		if err := b.dst.reset(ctx); err != nil {
			return err
		}
		b.record(ctx, big(caseImport), toolFerry, []step{cmdStep(s.ferry, "bundle", "import", "--no-progress",
			"-o", "json", file, "http://"+s.dst+"/air")}, b.stored)
	}
	return clearDir(s.out)
}

func clearDir(dir string) error {
	es, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range es {
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// rotate returns s started at element i mod len(s): each run puts another
// tool first, so none always profits from (or pays for) the cache state.
func rotate(s []string, i int) []string {
	i %= len(s)
	return append(slices.Clone(s[i:]), s[:i]...)
}

func firstLine(b []byte, err error) string {
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	l, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	return strings.Join(strings.Fields(l), " ")
}

func lastLine(b []byte) string {
	s := strings.TrimSpace(string(b))
	return s[strings.LastIndex(s, "\n")+1:]
}
