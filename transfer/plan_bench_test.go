package transfer_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sync/errgroup"

	"github.com/ferry-oci/ferry/ctf"
	"github.com/ferry-oci/ferry/internal/registrytest"
	"github.com/ferry-oci/ferry/internal/testimage"
	"github.com/ferry-oci/ferry/oci"
	"github.com/ferry-oci/ferry/oci/remote"
	"github.com/ferry-oci/ferry/transfer"
)

const planArtifacts = 1000

// planCorpus is planArtifacts small images bench/app-NNNN:1.0, each with a
// base layer they all share and one of its own.
func planCorpus() testimage.Set {
	var set testimage.Set
	for i := range planArtifacts {
		set = append(set, testimage.Named{
			Name: fmt.Sprintf("bench/app-%04d", i),
			Tag:  "1.0",
			Artifact: testimage.Image{
				Platform: v1.Platform{OS: "linux", Architecture: "amd64"},
				Layers:   []testimage.Layer{{Seed: 1 << 40, Size: 256}, {Seed: uint64(i), Size: 128}},
			},
		})
	}
	return set
}

// benchPlan plans the copy of every artifact of set, held under base in src,
// to "air/<name>", with jobs Add calls at once (ocmtransfer.NewPlan makes them
// one after another, as jobs 1 does).
func benchPlan(b *testing.B, src oci.Reader, base string, set testimage.Set, jobs int) {
	ctx := context.Background()
	refs := make([]oci.Ref, len(set))
	for i, n := range set {
		r, err := oci.ParseRef(n.Repo(base) + ":" + n.Tag)
		if err != nil {
			b.Fatal(err)
		}
		refs[i] = r
	}
	b.ReportAllocs()
	for b.Loop() {
		pl := transfer.NewPlanner(src)
		g, ctx := errgroup.WithContext(ctx)
		g.SetLimit(jobs)
		for i, n := range set {
			g.Go(func() error {
				_, err := pl.Add(ctx, refs[i], "air/"+n.Name, []string{n.Tag}, n.Name)
				return err
			})
		}
		if err := g.Wait(); err != nil {
			b.Fatal(err)
		}
		p := pl.Plan()
		if len(p.Artifacts) != planArtifacts || len(p.Blobs) != 2*planArtifacts+1 {
			b.Fatalf("plan of %d artifacts and %d blobs", len(p.Artifacts), len(p.Blobs))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/planArtifacts, "µs/artifact")
}

// BenchmarkPlan1000 measures planning the copy of 1,000 artifacts: resolving
// each tag, reading each manifest, deduplicating blobs (the configs and
// layers: 2,001 unique), from a CTF directory and from a registry on
// loopback (an in-process distribution registry).
func BenchmarkPlan1000(b *testing.B) {
	set := planCorpus()
	ctx := context.Background()

	b.Run("ctf-dir", func(b *testing.B) {
		a, err := ctf.Create(filepath.Join(b.TempDir(), "ctf"), ctf.FormatDirectory)
		if err != nil {
			b.Fatal(err)
		}
		defer a.Close()
		if _, err := set.Push(ctx, a, ""); err != nil {
			b.Fatal(err)
		}
		benchPlan(b, a, "", set, 1)
	})

	reg := registrytest.New(b)
	store, err := remote.New()
	if err != nil {
		b.Fatal(err)
	}
	if _, err := set.Push(ctx, store, reg.Host); err != nil {
		b.Fatal(err)
	}
	for _, jobs := range []int{1, 8} {
		b.Run(fmt.Sprintf("registry-jobs-%d", jobs), func(b *testing.B) {
			benchPlan(b, store, reg.Host, set, jobs)
		})
	}
}
