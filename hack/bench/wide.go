package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/ferry-oci/ferry/internal/testimage"
	"github.com/ferry-oci/ferry/oci/remote"
)

// BENCH_SIZE=wide measures how cost grows with the size of a release rather
// than with its bytes: testimage.Wide's 1,000 small images (20 blobs each),
// carried as three releases from the same source registry:
//
//	wide-100   one component version with the first 100 images as resources
//	wide-1000  one component version with all 1,000
//	tree       100 component versions of 10 images each, all referenced by a
//	           root component version (ferry transfer --recursive)
//
// For each, ferry's plan (transfer --dry-run), copy and re-run are timed with
// their peak RSS; on the re-run the requests to both registries are counted
// and the manifests fetched more than once. The peers copy the flat releases
// (skopeo sync of the image list, crane copy and regctl image copy once per
// image); they have no component versions, so no plan and no tree.
const (
	wideImages     = 1000
	wideSmall      = 100
	wideComponents = 100
)

// WideReport is the wide bench's part of the report.
type WideReport struct {
	Images     int           `json:"images"`
	Blobs      int           `json:"blobs"`
	Bytes      int64         `json:"bytes"`
	SeedSecs   float64       `json:"seedSeconds"`
	Results    []*WideResult `json:"results"`
	LoadBefore string        `json:"loadBefore"`
	LoadAfter  string        `json:"loadAfter"`
}

// WideResult is one tool on one release, over all runs (medians).
type WideResult struct {
	Release   string  `json:"release"`
	Tool      string  `json:"tool"`
	Artifacts int     `json:"artifacts"` // images (and component versions) in the release
	Plan      float64 `json:"planSeconds,omitempty"`
	Copy      float64 `json:"copySeconds"`
	Rerun     float64 `json:"rerunSeconds"`
	PeakMiB   float64 `json:"peakMiB"`
	AtPeak    Split   `json:"atPeak"` // the split of the largest RSS sampled in any run
	// On the re-run: requests to the source and the target, GET requests
	// for manifests, and how many of those asked for one fetched before.
	SrcRequests     int64  `json:"sourceRequests"`
	DstRequests     int64  `json:"targetRequests"`
	ManifestGets    int    `json:"manifestGets"`
	ManifestRepeats int    `json:"manifestRepeats"`
	Error           string `json:"error,omitempty"`

	plans, copies, reruns []float64
}

type wideRelease struct {
	name, comp string
	images     []image
	recursive  bool
	artifacts  int
}

// runWide is the whole bench for BENCH_SIZE=wide.
func (b *bench) runWide(ctx context.Context, tools []string) error {
	c := b.cfg
	w := &WideReport{Images: wideImages, LoadBefore: loadAvg()}
	b.report.Wide = w
	srcProxy, err := startProxy(b.src.addr)
	if err != nil {
		return err
	}
	defer srcProxy.close()

	set := testimage.Wide(c.seed, wideImages)
	st := set.Stats()
	w.Blobs, w.Bytes = st.UniqueLayers+2*st.Images, st.UniqueBytes
	b.logf("seeding the wide release: %s", st)
	t0 := time.Now()
	ims, err := b.seedParallel(ctx, set)
	if err != nil {
		return err
	}
	w.SeedSecs = time.Since(t0).Seconds()
	b.logf("seeded %d images in %s", len(ims), time.Since(t0).Round(time.Second))
	b.s.images = ims
	rels, err := b.wideComponents(ctx, srcProxy.addr, ims)
	if err != nil {
		return err
	}

	s := b.s
	s.src = srcProxy.addr
	results := map[string]*WideResult{}
	get := func(rel wideRelease, tool string) *WideResult {
		k := rel.name + "/" + tool
		if results[k] == nil {
			results[k] = &WideResult{Release: rel.name, Tool: tool, Artifacts: rel.artifacts}
			w.Results = append(w.Results, results[k])
		}
		return results[k]
	}
	timed := func(r *WideResult, what string, steps []step) (float64, bool) {
		if r.Error != "" {
			return 0, false
		}
		syscall.Sync()
		srcProxy.reset()
		b.proxy.reset()
		u, err := measure(ctx, b.env, b.log, steps)
		if err != nil {
			r.Error = what + ": " + err.Error()
			b.logf("wide %s %s %s: %v", r.Release, r.Tool, what, err)
			return 0, false
		}
		r.PeakMiB = max(r.PeakMiB, float64(u.PeakKiB)/1024)
		r.AtPeak = r.AtPeak.larger(u.AtPeak.mib())
		fmt.Fprintf(b.stderr, "bench:   %-9s %-8s %-6s %8.2fs %6.1f MiB\n", r.Release, r.Tool, what, u.Seconds, float64(u.PeakKiB)/1024)
		return u.Seconds, true
	}
	for i := range c.runs {
		for _, rel := range rels {
			for _, tool := range rotate(tools, i) {
				if tool != toolFerry && rel.recursive {
					continue
				}
				r := get(rel, tool)
				if err := b.dst.reset(ctx); err != nil {
					return err
				}
				s.images = rel.images
				if err := s.writeSkopeoFiles(c.work); err != nil {
					return err
				}
				s.comp = rel.comp
				var steps []step
				if tool == toolFerry {
					steps = s.wideFerrySteps(rel.recursive, false)
					if secs, ok := timed(r, "plan", s.wideFerrySteps(rel.recursive, true)); ok {
						r.plans = append(r.plans, secs)
					}
				} else {
					steps = s.copySteps(tool)
				}
				secs, ok := timed(r, "copy", steps)
				if !ok {
					continue
				}
				r.copies = append(r.copies, secs)
				if secs, ok = timed(r, "re-run", steps); ok {
					r.reruns = append(r.reruns, secs)
					r.ManifestGets, r.ManifestRepeats = srcProxy.manifestGets()
					_, r.SrcRequests = srcProxy.reset()
					_, r.DstRequests = b.proxy.reset()
				}
			}
		}
	}
	for _, r := range w.Results {
		if len(r.plans) > 0 {
			r.Plan = median(r.plans)
		}
		if len(r.copies) > 0 {
			r.Copy = median(r.copies)
		}
		if len(r.reruns) > 0 {
			r.Rerun = median(r.reruns)
		}
	}
	w.LoadAfter = loadAvg()
	return nil
}

// wideFerrySteps is ferry's copy of the release (or, with plan, its plan:
// transfer --dry-run).
func (s *setup) wideFerrySteps(recursive, plan bool) []step {
	argv := []string{s.ferry, "transfer", "--no-progress", "-o", "json"}
	if recursive {
		argv = append(argv, "--recursive")
	}
	if plan {
		argv = append(argv, "--dry-run")
	}
	return []step{cmdStep(append(argv, "http://"+s.src+"/ocm//"+s.comp, "http://"+s.dst+"/air")...)}
}

// seedParallel pushes set into the source registry, 8 images at a time.
func (b *bench) seedParallel(ctx context.Context, set testimage.Set) ([]image, error) {
	store, err := remote.New(remote.WithPlainHTTP(true))
	if err != nil {
		return nil, err
	}
	ims := make([]image, len(set))
	var done atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for i, n := range set {
		g.Go(func() error {
			d, err := testimage.NewPusher(store).Push(gctx, b.src.addr+"/"+n.Name, n.Tag, n.Artifact)
			if err != nil {
				return fmt.Errorf("seeding %s: %w", n, err)
			}
			ims[i] = image{Name: n.Name, Tag: n.Tag, Digest: d.Digest.String()}
			if k := done.Add(1); k%200 == 0 {
				b.logf("seeded %d of %d images", k, len(set))
			}
			return nil
		})
	}
	return ims, g.Wait()
}

// wideComponents writes the three releases as component versions into
// SRC/ocm; their image references name host (the counting proxy in front
// of the source).
func (b *bench) wideComponents(ctx context.Context, host string, ims []image) ([]wideRelease, error) {
	resources := func(sb *strings.Builder, ims []image) {
		sb.WriteString("  resources:\n")
		for _, im := range ims {
			fmt.Fprintf(sb, "  - name: %s\n    type: ociImage\n    version: %q\n    relation: external\n    access:\n      type: ociArtifact\n      imageReference: %s/%s:%s\n",
				filepath.Base(im.Name), im.Tag, host, im.Name, im.Tag)
		}
	}
	var sb strings.Builder
	sb.WriteString("components:\n")
	flat := func(name string, ims []image) {
		fmt.Fprintf(&sb, "- name: bench.ferry.dev/%s\n  version: 1.0.0\n  provider:\n    name: ferry-bench\n", name)
		resources(&sb, ims)
	}
	flat("wide-100", ims[:wideSmall])
	flat("wide-1000", ims)
	per := len(ims) / wideComponents
	for i := range wideComponents {
		flat(fmt.Sprintf("tree/part-%03d", i+1), ims[i*per:(i+1)*per])
	}
	sb.WriteString("- name: bench.ferry.dev/tree\n  version: 1.0.0\n  provider:\n    name: ferry-bench\n  componentReferences:\n")
	for i := range wideComponents {
		fmt.Fprintf(&sb, "  - name: part-%03d\n    componentName: bench.ferry.dev/tree/part-%03d\n    version: 1.0.0\n", i+1, i+1)
	}
	file := filepath.Join(b.cfg.work, "wide-constructor.yaml")
	if err := os.WriteFile(file, []byte(sb.String()), 0o644); err != nil {
		return nil, err
	}
	t0 := time.Now()
	u, err := measure(ctx, b.env, b.log, []step{cmdStep(b.cfg.ferry, "component", "create", "--no-progress", "-f", file,
		"--to", "http://"+b.src.addr+"/ocm", "--creation-time", "2026-01-01T00:00:00Z")})
	if err != nil {
		return nil, fmt.Errorf("ferry component create: %w", err)
	}
	b.logf("%d component versions created in %s (%.1f MiB)", 3+wideComponents-1, time.Since(t0).Round(time.Millisecond), float64(u.PeakKiB)/1024)
	return []wideRelease{
		{name: "wide-100", comp: "bench.ferry.dev/wide-100:1.0.0", images: ims[:wideSmall], artifacts: wideSmall},
		{name: "wide-1000", comp: "bench.ferry.dev/wide-1000:1.0.0", images: ims, artifacts: len(ims)},
		{name: "tree", comp: "bench.ferry.dev/tree:1.0.0", images: ims, recursive: true, artifacts: len(ims) + wideComponents + 1},
	}, nil
}

// renderWide writes the wide bench's section of docs/benchmarks.md.
func renderWide(rep *Report) string {
	w := rep.Wide
	var b strings.Builder
	m := rep.Machine
	fmt.Fprintf(&b, "Run of %s, %d run(s) per case (median shown), target registry emptied before every copy.\n\n", rep.Date, rep.Runs)
	fmt.Fprintf(&b, "- Machine: %d CPUs (%s), %.1f GiB memory, Linux %s, %s; load average %s at the start, %s at the end; the whole bench took %.0f s.\n",
		m.CPUs, m.CPUModel, m.MemoryGiB, m.Kernel, m.Go, w.LoadBefore, w.LoadAfter, rep.Seconds)
	fmt.Fprintf(&b, "- Release: %d images (testimage.Wide, seed %d), %d unique blobs with manifests and configs, %s of layers; seeded into the source in %.0f s.\n",
		w.Images, rep.Corpus.Seed, w.Blobs, mb(w.Bytes), w.SeedSecs)
	var ts []string
	for _, t := range []string{toolFerry, toolCrane, toolRegctl, toolSkopeo} {
		if v, ok := rep.Tools[t]; ok {
			ts = append(ts, fmt.Sprintf("%s (%s)", t, v))
		}
	}
	fmt.Fprintf(&b, "- Tools: %s; ferry with its default --jobs %d.\n\n", strings.Join(ts, ", "), rep.Jobs)
	b.WriteString("| release | tool | artifacts | plan s | copy s | re-run s | peak RSS MiB | at peak: anon / file / shmem MiB | re-run requests (source + target) | per artifact | manifest GETs on re-run (repeated) |\n")
	b.WriteString("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, r := range w.Results {
		if r.Error != "" && len(r.copies) == 0 {
			fmt.Fprintf(&b, "| %s | %s | %d | failed: %s ||||||||\n", r.Release, r.Tool, r.Artifacts, oneLine(r.Error))
			continue
		}
		plan := ""
		if r.Plan > 0 {
			plan = fmt.Sprintf("%.2f", r.Plan)
		}
		reqs := r.SrcRequests + r.DstRequests
		fmt.Fprintf(&b, "| %s | %s | %d | %s | %.2f | %.2f | %.1f | %s | %d + %d | %.1f | %d (%d) |\n", r.Release, r.Tool, r.Artifacts, plan,
			r.Copy, r.Rerun, r.PeakMiB, r.AtPeak, r.SrcRequests, r.DstRequests, float64(reqs)/float64(r.Artifacts), r.ManifestGets, r.ManifestRepeats)
	}
	b.WriteString(splitNote)
	b.WriteString("\nGrowth from 100 to 1,000 images (10 × the images; linear is 10.0):\n\n| tool | plan | copy | re-run | peak RSS |\n|---|--:|--:|--:|--:|\n")
	find := func(rel, tool string) *WideResult {
		i := slices.IndexFunc(w.Results, func(r *WideResult) bool { return r.Release == rel && r.Tool == tool && len(r.copies) > 0 })
		if i < 0 {
			return nil
		}
		return w.Results[i]
	}
	for _, t := range []string{toolFerry, toolCrane, toolRegctl, toolSkopeo} {
		a, z := find("wide-100", t), find("wide-1000", t)
		if a == nil || z == nil {
			continue
		}
		ratio := func(x, y float64) string {
			if x <= 0 || y <= 0 {
				return ""
			}
			return fmt.Sprintf("%.1f ×", y/x)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", t, ratio(a.Plan, z.Plan), ratio(a.Copy, z.Copy), ratio(a.Rerun, z.Rerun), ratio(a.PeakMiB, z.PeakMiB))
	}
	return b.String()
}
