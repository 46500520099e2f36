package bundle

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/ferry-oci/ferry/bom"
	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/component/ocireg"
	"github.com/ferry-oci/ferry/ctf"
	"github.com/ferry-oci/ferry/oci"
)

// Inspection is what a bundle holds, for people.
type Inspection struct {
	Path       string               `json:"path"`
	Volumes    []Volume             `json:"volumes,omitempty"`
	Size       int64                `json:"size"`
	Tool       string               `json:"tool,omitempty"` // empty when the bundle has no ferry metadata
	Components []InspectedComponent `json:"components"`
	Images     []InspectedImage     `json:"images"`
	Blobs      int                  `json:"blobs"`
	// BlobBytes is what the blobs take, each once.
	BlobBytes int64 `json:"blobBytes"`
	// ImageBytes is what the images would take if each kept its own copy of
	// the blobs it shares with others; Saved is the difference storing them
	// once makes.
	ImageBytes int64 `json:"imageBytes"`
	Saved      int64 `json:"saved"`
	// LeftOut is what a differential bundle does not carry.
	LeftOut      int    `json:"leftOut,omitempty"`
	LeftOutBytes int64  `json:"leftOutBytes,omitempty"`
	LeftOutBase  string `json:"leftOutBase,omitempty"`
	// BOM is the bill of materials ferry recorded when it created the
	// bundle: what crossed, with every digest and signature, and what
	// create verified.
	BOM *bom.BOM `json:"bom,omitempty"`
	// Strays are files interrupted writes of the CTF left (see ctf.Strays).
	Strays []ctf.Stray `json:"strays,omitempty"`
}

// InspectedComponent is a component version in a bundle.
type InspectedComponent struct {
	Name      string              `json:"name"`
	Version   string              `json:"version"`
	Digest    v1.Hash             `json:"digest"`
	Resources []InspectedResource `json:"resources"`
	// Signatures are the version's signatures; Verified ones were checked
	// when the bundle was created (its bill of materials says so).
	Signatures []bom.Signature `json:"signatures,omitempty"`
	// VerifiedBy says how create verified the version, if it was asked to.
	VerifiedBy string `json:"verifiedBy,omitempty"`
}

// InspectedResource is one resource of a component version.
type InspectedResource struct {
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
	Type    string `json:"type"`
	Access  string `json:"access"` // the access type
	// Ref is the image reference or local blob digest the access names.
	Ref  string `json:"ref,omitempty"`
	Size int64  `json:"size,omitempty"` // of the local blob, or of the image with everything below it
}

// InspectedImage is an image (or other OCI artifact) in a bundle, by tag.
type InspectedImage struct {
	Repository string          `json:"repository"`
	Tag        string          `json:"tag"`
	Digest     v1.Hash         `json:"digest"`
	MediaType  types.MediaType `json:"mediaType"`
	Platforms  []string        `json:"platforms,omitempty"`
	Size       int64           `json:"size"` // the manifest and everything below it
	// Signatures are the image's signatures create verified.
	Signatures []bom.Signature `json:"signatures,omitempty"`
}

// Inspect lists what b holds: its component versions and their resources,
// its tagged images with their platforms and sizes, and what storing every
// blob once saves.
func Inspect(ctx context.Context, b *Bundle) (*Inspection, error) {
	a := b.Archive
	in := &Inspection{Path: b.Path, Volumes: b.Volumes, Size: b.Size(), Strays: strays(b)}
	if md := b.Metadata; md != nil {
		in.Tool, in.BOM = md.Tool, md.BOM
		if lo := md.LeftOut; lo != nil {
			in.LeftOut, in.LeftOutBase = len(lo.Blobs), lo.Base
			for _, hb := range lo.Blobs {
				in.LeftOutBytes += hb.Size
			}
		}
	}
	hs, err := a.Blobs()
	if err != nil {
		return nil, err
	}
	sizes := map[v1.Hash]int64{}
	for _, h := range hs {
		f, err := a.OpenBlob(h)
		if err != nil {
			return nil, err
		}
		sizes[h] = f.Size()
		if !slices.Contains(b.metaHash, h) { // counted as create and verify count
			in.Blobs++
			in.BlobBytes += f.Size()
		}
		f.Close()
	}
	for _, hb := range b.LeftOut() {
		sizes[hb.Digest] = hb.Size // a resource's size counts what the target holds too
	}
	w := &walker{ctx: ctx, a: a, sizes: sizes, left: map[v1.Hash]bool{}}
	for _, hb := range b.LeftOut() {
		w.left[hb.Digest] = true
	}
	union := map[v1.Hash]bool{}
	for _, e := range a.Entries() {
		if e.Tag == "" || e.Repository == MetadataRepository || ocireg.IsComponentRepo(e.Repository) {
			continue
		}
		d, err := a.Resolve(ctx, oci.Ref{Repository: e.Repository, Digest: e.Digest})
		if err != nil {
			return nil, err
		}
		img := InspectedImage{Repository: e.Repository, Tag: e.Tag, Digest: d.Digest, MediaType: d.MediaType}
		closure := map[v1.Hash]bool{}
		img.Platforms, err = w.walk(e.Repository, d, closure, 0)
		if err != nil {
			return nil, fmt.Errorf("inspecting %s: %w", e, err)
		}
		for h := range closure {
			img.Size += sizes[h]
			union[h] = true
		}
		in.ImageBytes += img.Size
		if in.BOM != nil {
			for _, bi := range in.BOM.Images {
				if bi.Target == e.Repository && bi.Digest == d.Digest {
					img.Signatures = bi.Signatures
				}
			}
		}
		in.Images = append(in.Images, img)
	}
	repo := ocireg.New(a, "")
	names, err := repo.Components(ctx)
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		vs, err := repo.Versions(ctx, n)
		if err != nil {
			return nil, err
		}
		for _, ver := range vs {
			cv, err := repo.Get(ctx, n, ver)
			if err != nil {
				return nil, fmt.Errorf("inspecting %s:%s: %w", n, ver, err)
			}
			ic, imgs := w.component(cv)
			for _, img := range imgs {
				closure := map[v1.Hash]bool{}
				if img.Platforms, err = w.walk(cv.Ref.Repo(), v1.Descriptor{MediaType: img.MediaType, Digest: img.Digest, Size: img.Size}, closure, 0); err != nil {
					return nil, fmt.Errorf("inspecting %s:%s: %w", n, ver, err)
				}
				img.Size = 0
				for h := range closure {
					img.Size += sizes[h]
					union[h] = true
				}
				in.ImageBytes += img.Size
				in.Images = append(in.Images, img)
			}
			verified := map[string]string{} // what create verified, by its bill of materials
			if c := in.BOM.Component(n, ver); c != nil {
				for _, s := range c.Signatures {
					if s.Kind == bom.KindOCM && s.Verified {
						verified[s.Name] = s.Key
					}
				}
				ic.VerifiedBy = c.VerifiedBy
			}
			ic.Signatures = bom.OCMSignatures(cv.Descriptor, verified)
			in.Components = append(in.Components, ic)
		}
	}
	var unique int64
	for h := range union {
		unique += sizes[h]
	}
	in.Saved = in.ImageBytes - unique
	return in, nil
}

type walker struct {
	ctx   context.Context
	a     oci.Reader
	sizes map[v1.Hash]int64
	left  map[v1.Hash]bool // left out of a differential bundle
}

// walk adds d and everything below it to closure and returns the platforms
// of the images it is or holds ("linux/amd64").
func (w *walker) walk(repo string, d v1.Descriptor, closure map[v1.Hash]bool, depth int) ([]string, error) {
	closure[d.Digest] = true
	if depth > 8 || w.left[d.Digest] {
		return nil, nil // what a differential bundle left out is not read
	}
	b, err := oci.FetchBytes(w.ctx, w.a, repo, d, oci.MaxManifestBytes)
	if err != nil {
		return nil, err
	}
	kids, err := oci.Children(d.MediaType, b)
	if err != nil {
		return nil, err
	}
	var plats []string
	for _, c := range kids {
		if oci.IsManifest(c.MediaType) {
			ps, err := w.walk(repo, c, closure, depth+1)
			if err != nil {
				return nil, err
			}
			if c.Platform != nil {
				ps = []string{platformString(c.Platform)}
			}
			plats = append(plats, ps...)
			continue
		}
		closure[c.Digest] = true
	}
	if !oci.IsIndex(d.MediaType) {
		if p := w.configPlatform(repo, b); p != "" {
			plats = []string{p}
		}
	}
	slices.Sort(plats)
	return slices.Compact(plats), nil
}

func (w *walker) configPlatform(repo string, manifest []byte) string {
	var m struct {
		Config v1.Descriptor `json:"config"`
	}
	if json.Unmarshal(manifest, &m) != nil || m.Config.Size > 1<<20 || !strings.Contains(string(m.Config.MediaType), "config") {
		return ""
	}
	cb, err := oci.FetchBytes(w.ctx, w.a, repo, m.Config, 1<<20)
	if err != nil {
		return ""
	}
	var p v1.Platform
	if json.Unmarshal(cb, &p) != nil || p.OS == "" {
		return ""
	}
	return platformString(&p)
}

func platformString(p *v1.Platform) string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// component lists a version's resources, and the OCI artifacts stored in
// its index (OCM v2), once each, as images of the bundle.
func (w *walker) component(cv *ocireg.Version) (InspectedComponent, []InspectedImage) {
	out := InspectedComponent{Name: cv.Descriptor.Name, Version: cv.Descriptor.Version, Digest: cv.Manifest.Digest}
	var imgs []InspectedImage
	for _, r := range cv.Descriptor.Resources {
		ir := InspectedResource{Name: r.Name, Version: r.Version, Type: r.Type, Access: r.Access.Type}
		switch r.Access.Kind() {
		case component.AccessLocalBlob:
			if lb, err := r.Access.LocalBlob(); err == nil && ocireg.IsIndexArtifact(lb.MediaType) {
				ir.Ref = lb.LocalReference
				if d, err := cv.IndexArtifact(lb); err == nil {
					closure := map[v1.Hash]bool{}
					if _, err := w.walk(cv.Ref.Repo(), d, closure, 0); err == nil {
						for h := range closure {
							ir.Size += w.sizes[h]
						}
					}
					if !slices.ContainsFunc(imgs, func(i InspectedImage) bool { return i.Digest == d.Digest }) {
						imgs = append(imgs, InspectedImage{Repository: cv.Ref.Repo(), Digest: d.Digest, MediaType: d.MediaType, Size: d.Size})
					}
				}
			} else if err == nil {
				ir.Ref = lb.LocalReference
				if hs, err := ocireg.LocalReferenceDigests(lb.LocalReference); err == nil {
					for _, h := range hs {
						ir.Size += w.sizes[h]
					}
				}
			}
		case component.AccessRelativeOCIReference, component.AccessOCIArtifact:
			im, err := ocireg.ImageOf(r.Access, "")
			if err != nil {
				break
			}
			ir.Ref = im.Access
			if !im.Relative {
				break
			}
			if d, err := w.a.Resolve(w.ctx, im.Ref); err == nil {
				closure := map[v1.Hash]bool{}
				if _, err := w.walk(im.Ref.Repo(), d, closure, 0); err == nil {
					for h := range closure {
						ir.Size += w.sizes[h]
					}
				}
			}
		}
		out.Resources = append(out.Resources, ir)
	}
	return out, imgs
}
