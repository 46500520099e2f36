package bundle

import (
	"bytes"
	"context"
	"os"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/ferry-oci/ferry/internal/testimage"
	"github.com/ferry-oci/ferry/oci"
)

// contentsOf lists what pushing set into a bundle writes, as a plan would.
func contentsOf(t testing.TB, set testimage.Set) Contents {
	t.Helper()
	c := Contents{Tool: "ferry test"}
	image := func(repo string, im testimage.Image) {
		for _, l := range im.Layers {
			d, err := l.Descriptor()
			if err != nil {
				t.Fatal(err)
			}
			c.Entries = append(c.Entries, Entry{Repo: repo, Descriptor: d})
		}
		cfg, err := im.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		c.Entries = append(c.Entries, Entry{Repo: repo, Descriptor: v1.Descriptor{Digest: oci.Digest(cfg), Size: int64(len(cfg))}})
		d, err := im.Descriptor()
		if err != nil {
			t.Fatal(err)
		}
		c.Entries = append(c.Entries, Entry{Repo: repo, Descriptor: d, Manifest: true})
	}
	for _, n := range set {
		ims := n.Artifact.Images()
		if _, isIndex := n.Artifact.(testimage.Index); isIndex {
			for _, im := range ims {
				image(n.Name, im)
			}
		}
		d, err := n.Artifact.Descriptor()
		if err != nil {
			t.Fatal(err)
		}
		if _, isIndex := n.Artifact.(testimage.Index); !isIndex {
			image(n.Name, ims[0])
			c.Entries[len(c.Entries)-1].Tags = []string{n.Tag}
			continue
		}
		c.Entries = append(c.Entries, Entry{Repo: n.Name, Descriptor: d, Manifest: true, Tags: []string{n.Tag}})
		c.Artifacts = append(c.Artifacts, Artifact{Repository: n.Name, Digest: d.Digest, MediaType: d.MediaType, Size: d.Size, Tags: []string{n.Tag}})
	}
	return c
}

// write creates a bundle of set at path and pushes everything.
func write(t testing.TB, path string, set testimage.Set, o CreateOptions) []Volume {
	t.Helper()
	ctx := context.Background()
	w, err := Create(path, o)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Begin(ctx, contentsOf(t, set)); err != nil {
		t.Fatal(err)
	}
	return pushAndClose(t, w, set)
}

// pushAndClose pushes what of set w still lacks and closes w.
func pushAndClose(t testing.TB, w *Writer, set testimage.Set) []Volume {
	t.Helper()
	if _, err := set.Push(context.Background(), w, ""); err != nil {
		t.Fatal(err)
	}
	vols, err := w.Close()
	if err != nil {
		t.Fatal(err)
	}
	return vols
}

func readAll(t testing.TB, vols []Volume) []byte {
	t.Helper()
	var b bytes.Buffer
	for _, v := range vols {
		d, err := os.ReadFile(v.Path)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(d)
	}
	return b.Bytes()
}
