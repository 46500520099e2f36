package bundle

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/component/ocireg"
	"github.com/ferry-oci/ferry/oci"
)

// MediaTypeInventory identifies an inventory file.
const MediaTypeInventory = "application/vnd.ferry.inventory.v1+json"

// ErrInvalidInventory: an inventory file is not what ferry writes.
var ErrInvalidInventory = errors.New("invalid inventory")

// Inventory is what a registry already holds of some component versions:
// the versions, and every manifest and blob they and their images consist
// of, per repository (named relative to Base). It is small and carries no
// secrets, so it can be taken inside an air gap and carried out, where a
// differential bundle leaves out everything it lists.
type Inventory struct {
	MediaType  string                `json:"mediaType"`
	Base       string                `json:"base"` // "registry.local:5000/air"
	Components []InventoryComponent  `json:"components"`
	Absent     []string              `json:"absent,omitempty"` // "name:version" asked for but not there
	Repos      []InventoryRepository `json:"repositories"`

	held map[v1.Hash]string
	raw  []byte
}

// InventoryComponent is a component version the registry holds.
type InventoryComponent struct {
	Name    string  `json:"name"`
	Version string  `json:"version"`
	Digest  v1.Hash `json:"digest"`
}

// InventoryRepository is what one repository holds.
type InventoryRepository struct {
	Name      string     `json:"name"` // relative to the base: "stefanprodan/podinfo"
	Manifests []HeldBlob `json:"manifests,omitempty"`
	Blobs     []HeldBlob `json:"blobs,omitempty"`
}

// TakeInventory walks the component versions refs (each with a version) in
// repo, with the references they hold and the images their accesses name
// inside repo's base, and records every manifest and blob found. Versions
// the registry does not hold are listed as Absent; images outside the base
// are not recorded (the registry does not hold them).
func TakeInventory(ctx context.Context, repo *ocireg.Repository, refs []component.Ref) (*Inventory, error) {
	t := &inventoryTaker{repo: repo, store: repo.Store(), base: strings.TrimSuffix(repo.Base(), "/"),
		repos: map[string]*invRepo{}, seen: map[string]bool{}}
	inv := &Inventory{MediaType: MediaTypeInventory, Base: t.base}
	for _, r := range refs {
		if err := t.version(ctx, inv, r.Component, r.Version, 0); err != nil {
			return nil, err
		}
	}
	for name, r := range t.repos {
		ir := InventoryRepository{Name: name}
		for _, m := range r.manifests {
			ir.Manifests = append(ir.Manifests, m)
		}
		for _, b := range r.blobs {
			ir.Blobs = append(ir.Blobs, b)
		}
		byDigest := func(a, b HeldBlob) int { return strings.Compare(a.Digest.String(), b.Digest.String()) }
		slices.SortFunc(ir.Manifests, byDigest)
		slices.SortFunc(ir.Blobs, byDigest)
		inv.Repos = append(inv.Repos, ir)
	}
	slices.SortFunc(inv.Repos, func(a, b InventoryRepository) int { return strings.Compare(a.Name, b.Name) })
	slices.SortFunc(inv.Components, func(a, b InventoryComponent) int {
		return strings.Compare(a.Name+":"+a.Version, b.Name+":"+b.Version)
	})
	slices.Sort(inv.Absent)
	inv.index()
	return inv, nil
}

type invRepo struct {
	manifests map[v1.Hash]HeldBlob
	blobs     map[v1.Hash]HeldBlob
}

type inventoryTaker struct {
	repo  *ocireg.Repository
	store oci.Store
	base  string
	repos map[string]*invRepo
	seen  map[string]bool
}

func (t *inventoryTaker) rel(repo string) (string, bool) {
	if t.base == "" {
		return repo, true
	}
	return strings.CutPrefix(repo, t.base+"/")
}

func (t *inventoryTaker) add(repo string, d v1.Descriptor, manifest bool) {
	r := t.repos[repo]
	if r == nil {
		r = &invRepo{manifests: map[v1.Hash]HeldBlob{}, blobs: map[v1.Hash]HeldBlob{}}
		t.repos[repo] = r
	}
	hb := HeldBlob{Digest: d.Digest, Size: d.Size, MediaType: d.MediaType}
	if manifest {
		r.manifests[d.Digest] = hb
	} else {
		r.blobs[d.Digest] = hb
	}
}

const maxInventoryDepth = 32

func (t *inventoryTaker) version(ctx context.Context, inv *Inventory, name, version string, depth int) error {
	key := name + ":" + version
	if t.seen[key] || depth > maxInventoryDepth {
		return nil
	}
	t.seen[key] = true
	cv, err := t.repo.Get(ctx, name, version)
	if errors.Is(err, oci.ErrNotFound) {
		inv.Absent = append(inv.Absent, key)
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading %s in %s: %w", key, t.base, err)
	}
	inv.Components = append(inv.Components, InventoryComponent{Name: name, Version: version, Digest: cv.Ref.Digest})
	repo, _ := t.rel(cv.Ref.Repo())
	if cv.Index.Digest != (v1.Hash{}) {
		// OCM v2: the index, and the images and charts stored in it.
		if err := t.walk(ctx, cv.Ref.Repo(), repo, cv.Index, 0); err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
	}
	t.add(repo, cv.Manifest, true)
	t.add(repo, cv.Config, false)
	for _, l := range cv.Layers {
		t.add(repo, l, false)
	}
	for _, r := range cv.Descriptor.Resources {
		im, err := ocireg.ImageOf(r.Access, t.base)
		if err != nil {
			continue
		}
		pr := im.Ref
		rel, ok := t.rel(pr.Repo())
		if !ok {
			continue // an image outside this registry path
		}
		d, err := t.store.Resolve(ctx, pr)
		if errors.Is(err, oci.ErrNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("%s resource %s: resolving %s: %w", key, r.Name, pr, err)
		}
		if err := t.walk(ctx, pr.Repo(), rel, d, 0); err != nil {
			return fmt.Errorf("%s resource %s: %w", key, r.Name, err)
		}
	}
	for _, ref := range cv.Descriptor.References {
		if err := t.version(ctx, inv, ref.ComponentName, ref.Version, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// walk records manifest d of repo (rel relative to the base) and
// everything below it.
func (t *inventoryTaker) walk(ctx context.Context, repo, rel string, d v1.Descriptor, depth int) error {
	if r := t.repos[rel]; r != nil {
		if _, ok := r.manifests[d.Digest]; ok {
			return nil
		}
	}
	if depth > 8 {
		return fmt.Errorf("reading %s@%s: indexes nest more than 8 deep", repo, d.Digest)
	}
	b, err := oci.FetchBytes(ctx, t.store, repo, d, oci.MaxManifestBytes)
	if err != nil {
		return fmt.Errorf("reading %s@%s: %w", repo, d.Digest, err)
	}
	if d.MediaType == "" {
		d.MediaType = oci.MediaTypeOf(b)
	}
	kids, err := oci.Children(d.MediaType, b)
	if err != nil {
		return fmt.Errorf("reading %s@%s: %w", repo, d.Digest, err)
	}
	t.add(rel, v1.Descriptor{Digest: d.Digest, Size: d.Size, MediaType: d.MediaType}, true)
	for _, c := range kids {
		if oci.IsManifest(c.MediaType) {
			if err := t.walk(ctx, repo, rel, c, depth+1); err != nil {
				return err
			}
			continue
		}
		t.add(rel, v1.Descriptor{Digest: c.Digest, Size: c.Size, MediaType: c.MediaType}, false)
	}
	return nil
}

// Marshal encodes the inventory as indented JSON.
func (inv *Inventory) Marshal() []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	_ = enc.Encode(inv)
	return buf.Bytes()
}

// ParseInventory decodes an inventory file and checks it.
func ParseInventory(b []byte) (*Inventory, error) {
	var inv Inventory
	if err := json.Unmarshal(b, &inv); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidInventory, err)
	}
	if inv.MediaType != MediaTypeInventory {
		return nil, fmt.Errorf("%w: mediaType %q, want %q", ErrInvalidInventory, inv.MediaType, MediaTypeInventory)
	}
	for _, r := range inv.Repos {
		if _, err := oci.ParseRef("example.invalid/" + r.Name); err != nil {
			return nil, fmt.Errorf("%w: repository %q", ErrInvalidInventory, r.Name)
		}
		for _, hb := range append(slices.Clone(r.Manifests), r.Blobs...) {
			if err := checkHash(hb.Digest); err != nil || hb.Size < 0 {
				return nil, fmt.Errorf("%w: repository %s: %v", ErrInvalidInventory, r.Name, err)
			}
		}
	}
	inv.raw = slices.Clone(b)
	inv.index()
	return &inv, nil
}

func (inv *Inventory) index() {
	inv.held = map[v1.Hash]string{}
	for _, r := range inv.Repos {
		for _, hb := range append(slices.Clone(r.Manifests), r.Blobs...) {
			if _, ok := inv.held[hb.Digest]; !ok {
				inv.held[hb.Digest] = r.Name
			}
		}
	}
}

// holds returns a repository (relative to Base) that holds h.
func (inv *Inventory) holds(h v1.Hash) (string, bool) {
	if inv.held == nil {
		inv.index()
	}
	r, ok := inv.held[h]
	return r, ok
}

// digest identifies the inventory file (or, for one taken in this process,
// its encoding).
func (inv *Inventory) digest() v1.Hash {
	if inv.raw != nil {
		return oci.Digest(inv.raw)
	}
	return oci.Digest(inv.Marshal())
}
