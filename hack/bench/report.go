package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"slices"
	"sort"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/ferry-oci/ferry/internal/testimage"
	"github.com/ferry-oci/ferry/oci"
	"github.com/ferry-oci/ferry/oci/remote"
)

var platformAMD64 = v1.Platform{OS: "linux", Architecture: "amd64"}

// Report is everything one `make bench` measured; docs/benchmarks.json
// holds it as JSON.
type Report struct {
	Date       string            `json:"date"`
	Machine    Machine           `json:"machine"`
	LoadBefore string            `json:"loadBefore"` // /proc/loadavg when the bench started
	LoadAfter  string            `json:"loadAfter"`
	Seconds    float64           `json:"seconds"` // the whole bench
	Runs       int               `json:"runs"`
	Jobs       int               `json:"jobs"`
	Tools      map[string]string `json:"tools"` // tool → version, or why it was not measured
	Corpus     Corpus            `json:"corpus"`
	Results    []*Result         `json:"results,omitempty"`
	Goals      []Goal            `json:"goals,omitempty"`
	Wide       *WideReport       `json:"wide,omitempty"` // BENCH_SIZE=wide
}

// Machine describes where the bench ran.
type Machine struct {
	CPUs      int     `json:"cpus"`
	CPUModel  string  `json:"cpuModel"`
	MemoryGiB float64 `json:"memoryGiB"`
	Kernel    string  `json:"kernel"`
	Go        string  `json:"go"`
}

// Corpus describes what was copied.
type Corpus struct {
	Seed         int64 `json:"seed"`
	Artifacts    int   `json:"artifacts"`
	Images       int   `json:"images"`
	Layers       int   `json:"layers"`
	UniqueLayers int   `json:"uniqueLayers"`
	UniqueBytes  int64 `json:"uniqueBytes"`
	TotalBytes   int64 `json:"totalBytes"`
	BigLayer     int64 `json:"bigLayer,omitempty"`
}

// Result is one tool in one case, over all runs.
type Result struct {
	Case    string   `json:"case"`
	Tool    string   `json:"tool"`
	Samples []Sample `json:"samples"`
	Error   string   `json:"error,omitempty"`

	Median   float64 `json:"medianSeconds"`
	Min      float64 `json:"minSeconds"`
	Max      float64 `json:"maxSeconds"`
	PeakMiB  float64 `json:"peakMiB"`            // the largest of the runs
	AtPeak   Split   `json:"atPeak"`             // the split of the largest sampled RSS of the runs
	Received int64   `json:"received,omitempty"` // request body bytes the target got (median)
	Stored   int64   `json:"stored,omitempty"`   // blob bytes in the target's root after the run (median)
	Written  int64   `json:"written,omitempty"`  // size of the exported file
	Names    string  `json:"names,omitempty"`    // images found under their names with their digests, "13/13"
}

// Sample is one run.
type Sample struct {
	Seconds  float64 `json:"seconds"`
	PeakMiB  float64 `json:"peakMiB"`
	AtPeak   Split   `json:"atPeak"` // the largest RSS sampled, split by kind
	Received int64   `json:"received"`
	Requests int64   `json:"requests"`
	Stored   int64   `json:"stored,omitempty"`
	Written  int64   `json:"written,omitempty"`
	Names    string  `json:"names,omitempty"`
}

// Goal is one of the targets, checked against this run.
type Goal struct {
	Goal string `json:"goal"`
	Got  string `json:"got"`
	Met  bool   `json:"met"`
}

// splitNote explains the split column of the tables.
const splitNote = "\nPeak RSS is the kernel's high-water mark (GNU time). The split is the largest resident set " +
	"sampled every 5 ms while the command ran (/proc/<pid>/status: RssAnon, RssFile, RssShmem): anonymous memory is " +
	"what the tool allocated; file-backed memory is mostly its binary's resident text and varies with the page cache. " +
	"Empty: the command ended before the first sample.\n"

func machineInfo() Machine {
	m := Machine{CPUs: runtime.NumCPU(), Go: runtime.Version()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kib int64
		if _, err := fmt.Sscanf(string(b), "MemTotal: %d kB", &kib); err == nil {
			m.MemoryGiB = float64(kib) / (1 << 20)
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	return m
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func corpusInfo(seed int64, s testimage.Set) Corpus {
	st := s.Stats()
	return Corpus{Seed: seed, Artifacts: st.Artifacts, Images: st.Images, Layers: st.Layers,
		UniqueLayers: st.UniqueLayers, UniqueBytes: st.UniqueBytes, TotalBytes: st.TotalBytes}
}

// names counts the corpus images the target holds under air/NAME:TAG with
// their source digests (skopeo sync, the copy case, puts them under
// air/BASE:TAG).
func (b *bench) names(ctx context.Context, tool string, copying bool) string {
	store, err := remote.New(remote.WithPlainHTTP(true), remote.WithRetry(1, 0))
	if err != nil {
		return err.Error()
	}
	ok := 0
	for _, im := range b.s.images {
		name := im.Name
		if tool == toolSkopeo && copying {
			name = im.base()
		}
		ref, err := oci.ParseRef(b.dst.addr + "/air/" + name + ":" + im.Tag)
		if err != nil {
			continue
		}
		d, err := store.Resolve(ctx, ref)
		if err == nil && d.Digest.String() == im.Digest {
			ok++
		}
	}
	return fmt.Sprintf("%d/%d", ok, len(b.s.images))
}

var caseOrder = []string{caseCopy, caseRerun, caseExport, caseImport, caseExport + "-big", caseImport + "-big"}

func toolRank(t string) int {
	switch {
	case t == toolFerry:
		return 0
	case strings.HasPrefix(t, "floor"):
		return 2
	}
	return 1
}

// summarise computes medians, orders the results and checks the goals.
func (b *bench) summarise() {
	for _, k := range b.order {
		r := b.results[k]
		if len(r.Samples) == 0 {
			b.report.Results = append(b.report.Results, r)
			continue
		}
		secs := make([]float64, len(r.Samples))
		var recv, stored []int64
		for i, s := range r.Samples {
			secs[i] = s.Seconds
			recv = append(recv, s.Received)
			stored = append(stored, s.Stored)
			r.PeakMiB = max(r.PeakMiB, s.PeakMiB)
			r.AtPeak = r.AtPeak.larger(s.AtPeak)
			r.Written = max(r.Written, s.Written)
			r.Names = s.Names
		}
		r.Median, r.Min, r.Max = median(secs), slices.Min(secs), slices.Max(secs)
		r.Received, r.Stored = medianInt(recv), medianInt(stored)
		b.report.Results = append(b.report.Results, r)
	}
	sort.SliceStable(b.report.Results, func(i, j int) bool {
		a, c := b.report.Results[i], b.report.Results[j]
		if ai, ci := slices.Index(caseOrder, a.Case), slices.Index(caseOrder, c.Case); ai != ci {
			return ai < ci
		}
		return toolRank(a.Tool) < toolRank(c.Tool)
	})
	b.report.Goals = goals(&b.report)
}

func (rep *Report) find(c, tool string) *Result {
	for _, r := range rep.Results {
		if r.Case == c && r.Tool == tool && r.Error == "" && len(r.Samples) > 0 {
			return r
		}
	}
	return nil
}

// bestPeer is the fastest peer of case c (floors and ferry left out).
func (rep *Report) bestPeer(c string) *Result {
	var best *Result
	for _, r := range rep.Results {
		if r.Case != c || toolRank(r.Tool) != 1 || r.Error != "" || len(r.Samples) == 0 {
			continue
		}
		if best == nil || r.Median < best.Median {
			best = r
		}
	}
	return best
}

func goals(rep *Report) []Goal {
	var gs []Goal
	unique := rep.Corpus.UniqueBytes
	// Manifests, configs and the component descriptor add a few hundred KiB.
	once := func(n int64) bool { return n > 0 && float64(n) <= float64(unique)*1.02+2<<20 }
	ratio := func(goal string, c string, peer *Result, limit float64) {
		f := rep.find(c, toolFerry)
		if f == nil || peer == nil {
			gs = append(gs, Goal{Goal: goal, Got: "not measured"})
			return
		}
		q := f.Median / peer.Median
		gs = append(gs, Goal{Goal: goal, Got: fmt.Sprintf("%.2f (ferry %.2fs, %s %.2fs)", q, f.Median, peer.Tool, peer.Median), Met: q <= limit})
	}
	floor := func(c, name string) *Result { return rep.find(c, fmt.Sprintf(name, rep.Jobs)) }
	ratio("(a) copy: ferry ≤ 0.6 × the best peer", caseCopy, rep.bestPeer(caseCopy), 0.6)
	ratio("(a) copy: ferry ≤ 1.15 × the relay floor", caseCopy, floor(caseCopy, floorRelay), 1.15)
	if f := rep.find(caseCopy, toolFerry); f != nil {
		gs = append(gs, Goal{Goal: "(a) the target receives each unique blob once",
			Got: fmt.Sprintf("%s received for %s unique", mb(f.Received), mb(unique)), Met: once(f.Received)})
	}
	ratio("(b) export: ferry bundle create ≤ 0.6 × the best peer", caseExport, rep.bestPeer(caseExport), 0.6)
	ratio("(b) export: ferry bundle create ≤ 1.3 × the download floor", caseExport, floor(caseExport, floorDownload), 1.3)
	ratio("(c) import: ferry bundle import ≤ 1.15 × the upload floor", caseImport, floor(caseCopy, floorUploadJobs), 1.15)
	if f := rep.find(caseImport, toolFerry); f != nil {
		all := fmt.Sprintf("%d/%d", rep.Corpus.Artifacts, rep.Corpus.Artifacts)
		gs = append(gs, Goal{Goal: "(c) import restores every name, each blob uploaded once",
			Got: fmt.Sprintf("names %s, %s received", f.Names, mb(f.Received)), Met: f.Names == all && once(f.Received)})
	}
	ratio("(d) re-run: ferry ≤ 0.6 × skopeo sync", caseRerun, rep.find(caseRerun, toolSkopeo), 0.6)
	var peak float64
	for _, c := range []string{caseCopy, caseRerun, caseExport, caseImport} {
		if f := rep.find(c, toolFerry); f != nil {
			peak = max(peak, f.PeakMiB)
		}
	}
	gs = append(gs, Goal{Goal: "memory: ferry ≤ 50 MiB on the corpus", Got: fmt.Sprintf("%.1f MiB", peak), Met: peak > 0 && peak <= 50})
	if rep.Corpus.BigLayer > 0 {
		peak = 0
		for _, c := range []string{caseExport + "-big", caseImport + "-big"} {
			if f := rep.find(c, toolFerry); f != nil {
				peak = max(peak, f.PeakMiB)
			}
		}
		gs = append(gs, Goal{Goal: fmt.Sprintf("memory: ferry ≤ 100 MiB with one %s layer", gib(rep.Corpus.BigLayer)),
			Got: fmt.Sprintf("%.1f MiB", peak), Met: peak > 0 && peak <= 100})
	}
	return gs
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func medianInt(v []int64) int64 {
	f := make([]float64, len(v))
	for i, x := range v {
		f[i] = float64(x)
	}
	return int64(median(f))
}

func mb(n int64) string  { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }
func gib(n int64) string { return fmt.Sprintf("%.0f GiB", float64(n)/(1<<30)) }

var caseTitle = map[string]string{
	caseCopy:            "(a) registry → registry",
	caseRerun:           "(d) re-run, nothing to copy",
	caseExport:          "(b) registry → one bundle file",
	caseImport:          "(c) bundle file → registry",
	caseExport + "-big": "memory: bundle create, one big layer",
	caseImport + "-big": "memory: bundle import, one big layer",
}

// renderMarkdown writes the generated section of docs/benchmarks.md.
func renderMarkdown(rep *Report) string {
	var b strings.Builder
	m := rep.Machine
	fmt.Fprintf(&b, "Run of %s, %d runs per case (median shown; the re-run %d times a run), tools in rotating order, target registry emptied before every copy and import.\n\n", rep.Date, rep.Runs, rerunSamples)
	fmt.Fprintf(&b, "- Machine: %d CPUs (%s), %.1f GiB memory, Linux %s, %s; load average %s at the start, %s at the end; the whole bench took %.0f s.\n",
		m.CPUs, m.CPUModel, m.MemoryGiB, m.Kernel, m.Go, rep.LoadBefore, rep.LoadAfter, rep.Seconds)
	c := rep.Corpus
	fmt.Fprintf(&b, "- Corpus (seed %d): %d artifacts, %d image manifests, %d layer references to %d distinct layers; %s unique, %s counted per image.",
		c.Seed, c.Artifacts, c.Images, c.Layers, c.UniqueLayers, mb(c.UniqueBytes), mb(c.TotalBytes))
	if c.BigLayer > 0 {
		fmt.Fprintf(&b, " Memory check: one image with a single %s layer.", gib(c.BigLayer))
	}
	b.WriteString("\n- Tools: ")
	var ts []string
	for _, t := range []string{toolFerry, toolCrane, toolRegctl, toolSkopeo} {
		if v, ok := rep.Tools[t]; ok {
			ts = append(ts, fmt.Sprintf("%s (%s)", t, v))
		}
	}
	b.WriteString(strings.Join(ts, ", "))
	fmt.Fprintf(&b, "; ferry with its default --jobs %d.\n\n", rep.Jobs)

	b.WriteString("| case | tool | median s | min–max s | ferry ÷ this | peak RSS MiB | at peak: anon / file / shmem MiB | received by target | stored by target | file | names |\n")
	b.WriteString("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, r := range rep.Results {
		if r.Error != "" || len(r.Samples) == 0 {
			fmt.Fprintf(&b, "| %s | %s | failed: %s ||||||||\n", caseTitle[r.Case], r.Tool, oneLine(r.Error))
			continue
		}
		ratio := ""
		if f := rep.find(r.Case, toolFerry); f != nil && r.Tool != toolFerry {
			ratio = fmt.Sprintf("%.2f", f.Median/r.Median)
		}
		opt := func(n int64) string {
			if n == 0 {
				return ""
			}
			return mb(n)
		}
		fmt.Fprintf(&b, "| %s | %s | %.2f | %.2f–%.2f | %s | %.1f | %s | %s | %s | %s | %s |\n",
			caseTitle[r.Case], r.Tool, r.Median, r.Min, r.Max, ratio, r.PeakMiB, r.AtPeak, opt(r.Received), opt(r.Stored), opt(r.Written), r.Names)
	}
	b.WriteString(splitNote)
	for t, v := range rep.Tools {
		if strings.HasPrefix(v, "not ") {
			fmt.Fprintf(&b, "\n%s: %s.\n", t, v)
		}
	}
	b.WriteString("\n| goal | this run | met |\n|---|---|---|\n")
	for _, g := range rep.Goals {
		met := "no"
		if g.Met {
			met = "yes"
		}
		fmt.Fprintf(&b, "| %s | %s | %s |\n", g.Goal, g.Got, met)
	}
	return b.String()
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	s = strings.ReplaceAll(s, "|", "/")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// The generated section of docs/benchmarks.md lies between these lines; the
// rest of the file is written by hand and kept.
const (
	docBegin     = "<!-- bench:begin (generated by make bench; edits between these lines are lost) -->"
	docEnd       = "<!-- bench:end -->"
	docWideBegin = "<!-- bench-wide:begin (generated by BENCH_SIZE=wide make bench; edits between these lines are lost) -->"
	docWideEnd   = "<!-- bench-wide:end -->"
)

// updateDoc replaces the generated section of the Markdown file path with
// section, creating the file with only that section when it does not exist.
func updateDoc(path, section string) error { return updateDocSection(path, docBegin, docEnd, section) }

// updateDocSection replaces what lies between the lines docBegin and docEnd
// of the Markdown file path with section; a file that does not exist is
// created with only that section.
func updateDocSection(path, docBegin, docEnd, section string) error {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		b = []byte("# Benchmarks\n\n" + docBegin + "\n" + docEnd + "\n")
	} else if err != nil {
		return err
	}
	s := string(b)
	i, j := strings.Index(s, docBegin), strings.Index(s, docEnd)
	if i < 0 || j < i {
		return fmt.Errorf("%s: no %q … %q section to replace", path, docBegin, docEnd)
	}
	s = s[:i+len(docBegin)] + "\n" + section + s[j:]
	return os.WriteFile(path, []byte(s), 0o644)
}
