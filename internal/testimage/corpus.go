package testimage

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/ferry-oci/ferry/oci"
)

// Named is an artifact with the repository and tag it is pushed to.
type Named struct {
	Name     string // repository path without a registry: "bench/app-01"
	Tag      string // "1.0"
	Artifact Artifact
}

// Repo returns the repository n is pushed to under base: "base/name", or
// the name alone when base is empty.
func (n Named) Repo(base string) string {
	if base == "" {
		return n.Name
	}
	return strings.TrimSuffix(base, "/") + "/" + n.Name
}

// String returns "name:tag".
func (n Named) String() string { return n.Name + ":" + n.Tag }

// Set is a list of named artifacts: a release, a corpus.
type Set []Named

// Push pushes every artifact of s, in order, to base/Name:Tag in w (to
// Name:Tag when base is empty, as in a CTF archive), and returns the
// descriptors of their manifests in the same order. A layer that an earlier
// repository of s received is mounted rather than uploaded again when w is
// an oci.Mounter.
func (s Set) Push(ctx context.Context, w oci.Writer, base string) ([]v1.Descriptor, error) {
	p := NewPusher(w)
	out := make([]v1.Descriptor, 0, len(s))
	for _, n := range s {
		d, err := p.Push(ctx, n.Repo(base), n.Tag, n.Artifact)
		if err != nil {
			return out, err
		}
		out = append(out, d)
	}
	return out, nil
}

// Stats counts what a Set holds. Bytes are the compressed sizes of layers
// (what a copy moves); configs and manifests, a few KiB in all, are not
// counted. Computing Stats generates nothing.
type Stats struct {
	Artifacts    int   // named artifacts (tags)
	Images       int   // image manifests, index children included
	Indexes      int   // image indexes
	Layers       int   // layers named by image manifests, each time it is named
	UniqueLayers int   // distinct layers
	TotalBytes   int64 // layer bytes summed over every image, as a copy that shares nothing moves them
	UniqueBytes  int64 // bytes of the distinct layers, as a registry or a bundle stores them
}

// String returns a one-line summary.
func (st Stats) String() string {
	return fmt.Sprintf("%d artifacts (%d images, %d indexes), %d layers (%d distinct), %s total, %s unique",
		st.Artifacts, st.Images, st.Indexes, st.Layers, st.UniqueLayers, humanBytes(st.TotalBytes), humanBytes(st.UniqueBytes))
}

// Stats returns the counts of s.
func (s Set) Stats() Stats {
	st := Stats{Artifacts: len(s)}
	seen := map[Layer]bool{}
	for _, n := range s {
		if _, ok := n.Artifact.(Index); ok {
			st.Indexes++
		}
		for _, im := range n.Artifact.Images() {
			st.Images++
			for _, l := range im.Layers {
				st.Layers++
				st.TotalBytes += l.CompressedSize()
				if !seen[l] {
					seen[l] = true
					st.UniqueLayers++
					st.UniqueBytes += l.CompressedSize()
				}
			}
		}
	}
	return st
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// Size is the unique layer bytes a Corpus aims at.
type Size int64

// Corpus sizes.
const (
	Small   Size = 50 << 20 // 50 MiB: BENCH_SIZE=small, quick runs
	Default Size = 1 << 30  // 1 GiB: make bench
)

// ParseSize reads "small", "default", a number of bytes ("52428800"), or a
// number with a unit: KiB, MiB, GiB (powers of 1024) or KB, MB, GB (powers
// of 1000).
func ParseSize(s string) (Size, error) {
	switch strings.ToLower(s) {
	case "small":
		return Small, nil
	case "default":
		return Default, nil
	}
	num, mult := s, int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}} {
		if rest, ok := strings.CutSuffix(s, u.suffix); ok {
			num, mult = rest, u.mult
			break
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(num), 10, 64)
	if err != nil || n <= 0 || n > (1<<50)/mult {
		return 0, fmt.Errorf("corpus size %q: want small, default, or a positive number of bytes with an optional unit (KiB, MiB, GiB, KB, MB, GB)", s)
	}
	return Size(n * mult), nil
}

// corpusApps is the number of single-platform images in a Corpus.
const corpusApps = 12

// The corpus's layers, in thousandths of its Size. The shares add up to 1000.
const (
	shareBase     = 60 // base-amd64 (all 12 apps and the index's amd64 child), base-arm64 (the arm64 child)
	shareRuntime1 = 80 // runtime-a and runtime-b layer 1, each in half the apps
	shareRuntime2 = 40 // runtime-a and runtime-b layer 2
	shareDeps     = 30 // each app's own dependencies layer
	shareBin      = 20 // each app's own binary layer, and each index child's
)

// Corpus returns the seeded benchmark corpus of about size unique layer bytes
// (Default when size <= 0). It always has the same shape, only the layer
// sizes scale:
//
//   - 12 images bench/app-01:1.0 … bench/app-12:1.0 (linux/amd64, OCI media
//     types), each of 5 layers: the base layer (6% of size, in every image),
//     two runtime layers (8% + 4%) shared by half the images (runtime a for
//     odd-numbered apps, runtime b for even ones), and two layers of its own
//     (3% + 2%);
//   - one index bench/multi:1.0 of linux/amd64 (the base, runtime a and a 2%
//     layer of its own) and linux/arm64 (an arm64 base of 6% and a 2% layer
//     of its own).
//
// That is 13 artifacts, 14 image manifests, 66 layer references to 32
// distinct layers. The unique bytes are size plus under 2 KiB of tar and
// gzip framing per layer (1.00 GiB for Default, 50.1 MiB for Small); the
// total bytes, counted per image, are about 3.04 times as many. The Stats
// method of the result computes both exactly. Every layer's content
// derives from (seed, the layer's role), so the same seed gives the same
// digests everywhere.
func Corpus(seed int64, size Size) Set {
	if size <= 0 {
		size = Default
	}
	layer := func(id string, share int64) Layer {
		return Layer{Seed: derive(seed, id), Size: int64(size) * share / 1000}
	}
	baseAMD := layer("base-amd64", shareBase)
	baseARM := layer("base-arm64", shareBase)
	runtimes := [2][]Layer{
		{layer("runtime-a/1", shareRuntime1), layer("runtime-a/2", shareRuntime2)},
		{layer("runtime-b/1", shareRuntime1), layer("runtime-b/2", shareRuntime2)},
	}
	amd64 := v1.Platform{OS: "linux", Architecture: "amd64"}
	arm64 := v1.Platform{OS: "linux", Architecture: "arm64"}
	config := func(name, runtime string) Config {
		return Config{
			Env:        []string{"PATH=/usr/local/bin:/usr/bin:/bin", "RUNTIME=" + runtime},
			Entrypoint: []string{"/app/" + name},
			WorkingDir: "/app",
			Labels: map[string]string{
				"org.opencontainers.image.title":    name,
				"org.opencontainers.image.version":  "1.0",
				"org.opencontainers.image.vendor":   "ferry bench",
				"org.opencontainers.image.revision": strconv.FormatInt(seed, 10),
			},
		}
	}

	set := make(Set, 0, corpusApps+1)
	for i := 1; i <= corpusApps; i++ {
		name := fmt.Sprintf("app-%02d", i)
		rt := (i - 1) % 2 // app-01 runtime a, app-02 runtime b, …
		layers := []Layer{baseAMD}
		layers = append(layers, runtimes[rt]...)
		layers = append(layers, layer(name+"/deps", shareDeps), layer(name+"/bin", shareBin))
		set = append(set, Named{Name: "bench/" + name, Tag: "1.0", Artifact: Image{
			Platform: amd64,
			Layers:   layers,
			Config:   config(name, string(rune('a'+rt))),
		}})
	}
	multiAMD := append([]Layer{baseAMD}, runtimes[0]...)
	multiAMD = append(multiAMD, layer("multi/bin-amd64", shareBin))
	set = append(set, Named{Name: "bench/multi", Tag: "1.0", Artifact: Index{Manifests: []Image{
		{Platform: amd64, Layers: multiAMD, Config: config("multi", "a")},
		{Platform: arm64, Layers: []Layer{baseARM, layer("multi/bin-arm64", shareBin)}, Config: config("multi", "none")},
	}}})
	return set
}

// derive returns the layer seed for the layer with role id in the corpus of
// seed.
func derive(seed int64, id string) uint64 {
	h := sha256.New()
	h.Write([]byte("ferry/testimage/corpus/v1\x00"))
	_ = binary.Write(h, binary.LittleEndian, seed)
	h.Write([]byte(id))
	return binary.LittleEndian.Uint64(h.Sum(nil))
}

// Sample returns the release `make demo` carries, a few KiB in all, with the
// repositories and tags of the real images it stands for:
//
//   - stefanprodan/podinfo:6.3.5, an image for linux/amd64;
//   - stefanprodan/podinfo:6.3.6, an index of linux/amd64 and linux/arm64
//     whose amd64 image shares its base layer with 6.3.5;
//   - library/busybox:1.36, a one-layer image for linux/amd64 (the init
//     container of the demo's Deployment).
//
// The content is made up (random bytes in place of binaries); the digests
// are fixed, and a test pins them.
func Sample() Set {
	layer := func(id string, size int64) Layer { return Layer{Seed: derive(0, "sample/"+id), Size: size} }
	amd64 := v1.Platform{OS: "linux", Architecture: "amd64"}
	arm64 := v1.Platform{OS: "linux", Architecture: "arm64"}
	baseAMD := layer("alpine-amd64", 3<<10)
	baseARM := layer("alpine-arm64", 3<<10)
	podinfo := func(version string, p v1.Platform, base Layer) Image {
		return Image{
			Platform: p,
			Layers:   []Layer{base, layer("podinfo-"+version+"-"+p.Architecture, 2<<10)},
			Config: Config{
				User:       "app",
				Env:        []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
				Cmd:        []string{"./podinfo"},
				WorkingDir: "/home/app",
				Labels: map[string]string{
					"org.opencontainers.image.source":  "https://github.com/stefanprodan/podinfo",
					"org.opencontainers.image.version": version,
				},
			},
		}
	}
	return Set{
		{Name: "stefanprodan/podinfo", Tag: "6.3.5", Artifact: podinfo("6.3.5", amd64, baseAMD)},
		{Name: "stefanprodan/podinfo", Tag: "6.3.6", Artifact: Index{Manifests: []Image{
			podinfo("6.3.6", amd64, baseAMD),
			podinfo("6.3.6", arm64, baseARM),
		}}},
		{Name: "library/busybox", Tag: "1.36", Artifact: Image{
			Platform: amd64,
			Layers:   []Layer{layer("busybox-1.36-amd64", 4<<10)},
			Config: Config{
				Env: []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
				Cmd: []string{"sh"},
			},
		}},
	}
}
