package testimage

import (
	"fmt"
	"strconv"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// WideLayers is the number of layers of its own each image of Wide has.
const WideLayers = 18

// Wide returns the seeded wide release of `BENCH_SIZE=wide`: n small images
// bench/wide/img-0001:1.0 … (linux/amd64, OCI media types), each of a 64 KiB
// base layer all of them share and WideLayers layers of its own of 4 to 28
// KiB (16 KiB on average), so 20 unique blobs an image (manifest, config
// and its own layers): 1,000 images are 20,001 blobs and about 300 MB. The
// first m images of Wide(seed, n) are Wide(seed, m), with the same digests.
func Wide(seed int64, n int) Set {
	base := Layer{Seed: derive(seed, "wide/base"), Size: 64 << 10}
	amd64 := v1.Platform{OS: "linux", Architecture: "amd64"}
	set := make(Set, 0, n)
	for i := 1; i <= n; i++ {
		name := fmt.Sprintf("img-%04d", i)
		layers := []Layer{base}
		for j := range WideLayers {
			id := name + "/" + strconv.Itoa(j)
			s := derive(seed, "wide/size/"+id)
			layers = append(layers, Layer{Seed: derive(seed, "wide/"+id), Size: int64(4<<10 + s%(24<<10))})
		}
		set = append(set, Named{Name: "bench/wide/" + name, Tag: "1.0", Artifact: Image{
			Platform: amd64,
			Layers:   layers,
			Config:   Config{Entrypoint: []string{"/" + name}, Labels: map[string]string{"org.opencontainers.image.title": name}},
		}})
	}
	return set
}
