package ocmtransfer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/sync/errgroup"

	"github.com/ferry-oci/ferry/bom"
	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/component/ocireg"
	"github.com/ferry-oci/ferry/ctf"
	"github.com/ferry-oci/ferry/internal/pending"
	"github.com/ferry-oci/ferry/oci"
	"github.com/ferry-oci/ferry/resource"
	"github.com/ferry-oci/ferry/transfer"
)

// ErrVersionDiffers: the target already holds the component version with
// other content, and the transfer was not asked to overwrite it.
var ErrVersionDiffers = errors.New("the target holds this version with different content")

// ErrResourceChanged: a resource's content does not match the digest its
// component version records (it was altered after the version was made,
// or signed). It is component.ErrDigestChanged: one sentinel for one
// condition, whoever finds it.
var ErrResourceChanged = component.ErrDigestChanged

// LabelFilteredFrom is resource.LabelFilteredFrom, the label the transfer
// puts on a resource whose image landed as a filtered index.
const LabelFilteredFrom = resource.LabelFilteredFrom

// Target is where component versions are transferred to.
type Target struct {
	// Repository stores the versions; its base is the path everything lands
	// under ("reg.local:5000/air"; "" in a CTF).
	Repository *ocireg.Repository
	// Scheme is the scheme the user gave the registry with ("http",
	// "https" or ""); OCM keeps it in the rewritten image references and
	// the repository context.
	Scheme string
	// Intermediate marks a CTF or bundle target: no repositoryContexts entry
	// is appended, and images are referenced relative to the archive
	// (relativeOciReference) instead of by registry address.
	Intermediate bool
}

// PlanOptions tune NewPlan. The zero value copies every
// resource by value, without references.
type PlanOptions struct {
	// Recursive transfers the referenced component versions too, first,
	// each once.
	Recursive bool
	// ByReference keeps the accesses of resources that live outside the
	// component version (images in registries, OCI blobs) as they are;
	// local blobs are copied all the same.
	ByReference bool
	// Overwrite replaces a version the target holds with different content;
	// without it that is an error wrapping ErrVersionDiffers.
	Overwrite bool
	// Verify are the signatures the versions must carry. A version is
	// accepted when its own signatures verify, or when a verified version
	// of the same plan references it with a digest it matches (so that
	// referenced versions, with Recursive or named alongside as in an
	// import, need no signature of their own). A version accepted neither
	// way, a reference whose digest does not match, a resource with content
	// but no digest, or a copied resource whose content cannot be compared
	// with its digest is an error wrapping ErrNotVerified, and nothing is
	// planned. Every resource digest that can be is compared with the
	// content as it is copied (manifest digests while planning, blob bytes
	// while streaming), with or without Verify.
	Verify []SignatureCheck
	// Artifacts are the options of the artifact copies: platforms and
	// attachments. A multi-platform image whose copy is filtered keeps its
	// resource digest (the signed one); its access points at the index that
	// landed and the label LabelFilteredFrom records the original digest.
	Artifacts transfer.PlanOptions
	// ArtifactSets, when set, is a spool directory, and images copied into
	// an intermediate target (a CTF or bundle) are stored as OCM artifact
	// sets (localBlob resources, as `ocm transfer --copy-resources` writes
	// them) instead of native OCI artifacts, so that `ocm verify` can check
	// the archive itself. Each set is generated once into the directory and
	// reused by later plans; see componentPlanner.artifactSet.
	ArtifactSets string
	// UploadAs is how images copied by value are stored in the target:
	// UploadAsOCIArtifact ("" too) or UploadAsLocalBlob (see ocmv2.go).
	UploadAs string
	// Jobs is how many reads of the source planning makes at once; 0
	// means transfer.DefaultJobs.
	Jobs int
	// HTTPClient fetches charts from Helm repositories (helm/v1 accesses);
	// nil means a plain client with a timeout.
	HTTPClient *http.Client
}

// ComponentVersion is one component version of a plan.
type ComponentVersion struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Source  string `json:"source"` // repository read from
	Target  string `json:"target"` // repository written to
	Tag     string `json:"tag"`
	// Digest is the manifest the version gets in the target.
	Digest v1.Hash `json:"digest"`
	// Skip says the target holds this version already, identical.
	Skip      bool             `json:"skip,omitempty"`
	Resources []ResourceChange `json:"resources,omitempty"`
	// Blobs are the local blobs the version holds in the target.
	Blobs []v1.Hash `json:"blobs,omitempty"`
	// Signatures are the version's signatures, marked verified where
	// PlanOptions.Verify checked them.
	Signatures []bom.Signature `json:"signatures,omitempty"`
	// VerifiedBy says how PlanOptions.Verify accepted the version: by
	// its signature, or by the digest a verified version's reference records.
	VerifiedBy string `json:"verifiedBy,omitempty"`

	// Descriptor is the descriptor written to the target: the source's with
	// its accesses rewritten (and, when an image lands as a filtered index,
	// pointed at it by Run).
	Descriptor Descriptor `json:"descriptor"`
	// LocalBlobs are the descriptors of its local blobs, in layer order.
	LocalBlobs []v1.Descriptor `json:"localBlobs,omitempty"`
	// Creator is the software.ocm.creator annotation written.
	Creator string `json:"creator,omitempty"`

	// Layout, Annotations and IndexAnnotations say how the descriptor is
	// stored (ocireg.WriteOptions): OCM v2's layout for a version the OCM v2
	// CLI wrote, or one whose images go into its index (UploadAsLocalBlob),
	// with the source's annotations.
	Layout           ocireg.Layout     `json:"layout,omitempty"`
	Annotations      map[string]string `json:"annotations,omitempty"`
	IndexAnnotations map[string]string `json:"indexAnnotations,omitempty"`
	// Stored, for a version the OCM v2 CLI wrote that the transfer leaves
	// unchanged, is its content as read, written as it is so that every
	// digest stays; nil otherwise.
	Stored *ocireg.Artifact `json:"stored,omitempty"`

	artifact *ocireg.Artifact // encoded from the fields above: descriptor layer, config, manifest (and index)
}

// Descriptor is a component descriptor in a plan. It marshals to JSON as
// OCM encodes it (component.EncodeJSON) and decodes with component.Decode,
// so a plan read back from JSON writes the same bytes.
type Descriptor struct{ *component.Descriptor }

// MarshalJSON implements json.Marshaler.
func (d Descriptor) MarshalJSON() ([]byte, error) {
	if d.Descriptor == nil {
		return []byte("null"), nil
	}
	return component.EncodeJSON(d.Descriptor, "")
}

// UnmarshalJSON implements json.Unmarshaler.
func (d *Descriptor) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		d.Descriptor = nil
		return nil
	}
	dd, err := component.Decode(b)
	if err != nil {
		return err
	}
	d.Descriptor = dd
	return nil
}

// ResourceChange is how a transfer moves one resource.
type ResourceChange struct {
	Name     string             `json:"name"`
	Identity component.Identity `json:"identity,omitempty"`
	// How: "by value" (copied, access rewritten), "local" (copied with the
	// version, access kept), "by reference" (not copied, access kept) or
	// "none" (no content).
	How    string           `json:"how"`
	From   component.Access `json:"from"`
	To     component.Access `json:"to"`
	Digest v1.Hash          `json:"digest,omitempty"` // of the artifact or blob copied
	// Checked says the content was compared with the recorded digest.
	Checked bool `json:"checked,omitempty"`
}

// NewPlan plans the transfer of the component versions refs (in
// the source repository) into target. It reads descriptors and manifests,
// checks every resource digest it can against what the source holds, and
// returns the Plan; nothing is written. Read the plan's blobs and
// artifacts through src when running it.
func NewPlan(ctx context.Context, src *SourceReader, repo *ocireg.Repository, refs []component.Ref, target Target, o PlanOptions) (*Plan, error) {
	if target.Intermediate {
		o.Artifacts.FilterAlways = true // archives stay closed: see transfer.PlanOptions.FilterAlways
	}
	cp := &componentPlanner{src: src, repo: repo, target: target, o: o, pl: transfer.NewPlanner(src, o.Artifacts), seen: map[string]*component.Descriptor{}}
	pre := cp.prefetchVersions(ctx, refs)
	for i, r := range refs {
		if err := cp.version(ctx, r.Component, r.Version, 0, pre[i]); err != nil {
			return nil, err
		}
	}
	if err := cp.prove(); err != nil {
		return nil, err
	}
	return &Plan{Components: cp.versions, Plan: *cp.pl.Plan()}, nil
}

type componentPlanner struct {
	src    *SourceReader
	repo   *ocireg.Repository
	target Target
	o      PlanOptions
	pl     *transfer.Planner

	mu         sync.Mutex
	seen       map[string]*component.Descriptor // versions planned, as read from the source
	versions   []ComponentVersion               // references first
	unverified map[string]error                 // versions whose own signature failed PlanOptions.Verify
}

const maxReferenceDepth = 32

func (o PlanOptions) jobs() int {
	if o.Jobs > 0 {
		return o.Jobs
	}
	return transfer.DefaultJobs
}

// version plans the component version name:version, and with Recursive
// the versions it references first. cv is the version when
// prefetchVersions read it already, else nil.
func (cp *componentPlanner) version(ctx context.Context, name, version string, depth int, cv *ocireg.Version) error {
	key := name + ":" + version
	if _, ok := cp.seen[key]; ok {
		return nil
	}
	if depth > maxReferenceDepth {
		return fmt.Errorf("component references nest more than %d deep at %s", maxReferenceDepth, key)
	}
	if cv == nil {
		var err error
		if cv, err = cp.repo.Get(ctx, name, version); err != nil {
			return fmt.Errorf("reading %s: %w", key, oci.WithSide(err, oci.Source, "read"))
		}
	}
	cp.seen[key] = cv.Descriptor
	sigs, err := cp.verify(cv.Descriptor)
	if err != nil {
		return err
	}
	if cp.o.Recursive {
		refs := make([]component.Ref, len(cv.Descriptor.References))
		for i, r := range cv.Descriptor.References {
			refs[i] = component.Ref{Component: r.ComponentName, Version: r.Version}
		}
		pre := cp.prefetchVersions(ctx, refs)
		for i, r := range cv.Descriptor.References {
			if err := cp.version(ctx, r.ComponentName, r.Version, depth+1, pre[i]); err != nil {
				return fmt.Errorf("%s reference %s: %w", key, r.Name, err)
			}
		}
	}
	d, err := cv.Descriptor.Clone()
	if err != nil {
		return err
	}
	// The target is asked whether it holds the version while its resources
	// are planned (after its references: one such question at a time);
	// checkExisting waits for the answer.
	existing := cp.lookUp(ctx, name, version)
	defer existing.Stop()
	rs := &resource.Content{Version: cv, Store: cp.src, Images: cp.src}
	targetCV := ocireg.ComponentRepo(cp.target.Repository.Base(), name)
	out := ComponentVersion{Name: name, Version: version, Source: cv.Ref.Repo(), Target: targetCV, Tag: ocireg.VersionTag(version), Signatures: sigs}

	var blobs []v1.Descriptor // local blobs of the target version
	pre := cp.prefetch(ctx, rs, d.Resources)
	ids := d.ResourceIdentities() // resource() rewrites accesses and digests, not identities
	for i := range d.Resources {
		r := &d.Resources[i]
		ch, lb, err := cp.resource(ctx, rs, cv, r, pre[i], targetCV)
		if err != nil {
			return err
		}
		ch.Identity = ids[i]
		if err := cp.checked(rs, r, ch); err != nil {
			return err
		}
		out.Resources = append(out.Resources, ch)
		blobs = append(blobs, lb...)
	}
	if !cp.target.Intermediate && !cv.IsV2() && cp.o.UploadAs != UploadAsLocalBlob {
		// OCM v2 appends no repository context; a version it wrote, or one
		// written in its layout, is carried as it is.
		d.RepositoryContexts = append(d.RepositoryContexts, cp.repositoryContext())
	}
	if err := component.Validate(d); err != nil {
		return fmt.Errorf("the rewritten descriptor of %s is not valid: %w", key, err)
	}
	out.Descriptor, out.LocalBlobs, out.Creator = Descriptor{d}, blobs, cv.Annotations[ocireg.AnnotationCreator]
	if cv.IsV2() || cp.o.UploadAs == UploadAsLocalBlob {
		out.Layout = ocireg.LayoutV2
	}
	if cv.IsV2() {
		out.Annotations, out.IndexAnnotations = cv.Annotations, cv.IndexAnnotations()
		if same, err := carryStored(cv, d); err != nil {
			return fmt.Errorf("comparing %s with its source: %w", key, err)
		} else if same {
			out.Stored = cv.Stored()
		}
	}
	if err := out.encode(); err != nil {
		return fmt.Errorf("encoding %s for the target: %w", key, err)
	}
	// Filtered indexes an earlier run left in the target are named now, so
	// that the version compares equal to what that run wrote.
	if err := out.relocate(cp.pl.Landed); err != nil {
		return err
	}
	if err := cp.checkExisting(&out, existing); err != nil {
		return err
	}
	cp.mu.Lock()
	cp.versions = append(cp.versions, out)
	cp.mu.Unlock()
	return nil
}

// encode computes what Run writes for the version from its descriptor.
func (cv *ComponentVersion) encode() error {
	art := cv.Stored
	if art == nil {
		if cv.Descriptor.Descriptor == nil {
			return fmt.Errorf("component version %s:%s: the plan holds no descriptor to write", cv.Name, cv.Version)
		}
		blobs, artifacts := splitArtifacts(cv.LocalBlobs)
		var err error
		art, err = ocireg.Manifest(cv.Descriptor.Descriptor, blobs, ocireg.WriteOptions{Creator: cv.Creator, Artifacts: artifacts, Layout: cv.Layout,
			Annotations: cv.Annotations, IndexAnnotations: cv.IndexAnnotations})
		if err != nil {
			return err
		}
	}
	cv.Digest, cv.artifact, cv.Blobs = art.Top().Digest, art, nil
	for _, b := range art.Blobs {
		cv.Blobs = append(cv.Blobs, b.Digest)
	}
	return nil
}

// lookUp asks the target, in the background, for the descriptor of the
// component version name:version it holds.
func (cp *componentPlanner) lookUp(ctx context.Context, name, version string) *pending.Call[v1.Descriptor] {
	return pending.Start(ctx, func(ctx context.Context) (v1.Descriptor, error) {
		return cp.target.Repository.Resolve(ctx, name, version)
	})
}

// checkExisting compares the version with what the target already holds,
// as existing found it.
func (cp *componentPlanner) checkExisting(cv *ComponentVersion, existing *pending.Call[v1.Descriptor]) error {
	have, err := existing.Wait()
	if errors.Is(err, oci.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("looking up %s:%s in the target: %w", cv.Name, cv.Version, oci.WithSide(err, oci.Destination, "resolve"))
	}
	if have.Digest == cv.Digest {
		cv.Skip = true
		return nil
	}
	if !cp.o.Overwrite {
		return fmt.Errorf("%s:%s in %s is %s, the transfer would write %s: %w (pass --overwrite to replace it)",
			cv.Name, cv.Version, cv.Target, have.Digest, cv.Digest, ErrVersionDiffers)
	}
	return nil
}

// repositoryContext is the entry OCM appends for a registry target.
func (cp *componentPlanner) repositoryContext() component.RepositoryContext {
	host, sub, _ := strings.Cut(cp.target.Repository.Base(), "/")
	base := host
	if cp.target.Scheme != "" {
		base = cp.target.Scheme + "://" + host
	}
	f := component.Fields{}
	f["baseUrl"] = jsonString(base)
	f["componentNameMapping"] = jsonString("urlPath")
	if sub != "" {
		f["subPath"] = jsonString(sub)
	}
	return component.RepositoryContext{Type: "OCIRegistry", Fields: f}
}

// How the planner moves a resource (componentPlanner.route).
type route int

const (
	routeNone        route = iota // no content
	routeIndex                    // an OCM v2 index entry (ocmv2.go)
	routeLocal                    // a local blob copied with the version
	routeByReference              // not copied, access kept
	routeArtifactSet              // an image stored as an OCM artifact set
	routeArtifact                 // an image copied by value
	routeOCIBlob                  // an OCI blob copied by value
	routeUnsupported              // an access ferry cannot fetch (ocmv2.go)
)

// route decides how the resource r moves.
func (cp *componentPlanner) route(r *component.Resource) route {
	kind := r.Access.Kind()
	switch {
	case r.Access.IsNone():
		return routeNone
	case resource.IsIndexArtifact(r):
		return routeIndex
	case kind == component.AccessLocalBlob && !(resource.IsArtifact(r) && !cp.target.Intermediate):
		return routeLocal
	case cp.o.ByReference && kind != component.AccessRelativeOCIReference && kind != component.AccessLocalBlob:
		return routeByReference
	case cp.o.ArtifactSets != "" && cp.target.Intermediate && resource.IsArtifact(r):
		return routeArtifactSet
	case resource.IsArtifact(r):
		return routeArtifact
	case kind == component.AccessOCIBlob:
		return routeOCIBlob
	}
	return routeUnsupported
}

// prefetchVersions reads the component versions refs that are not planned
// yet, PlanOptions.Jobs at a time, for version to plan one after another
// in their order. A version that cannot be read is left nil: version reads
// it again and reports the error in order.
func (cp *componentPlanner) prefetchVersions(ctx context.Context, refs []component.Ref) []*ocireg.Version {
	out := make([]*ocireg.Version, len(refs))
	if len(refs) < 2 {
		return out // nothing to overlap
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(cp.o.jobs())
	for i, r := range refs {
		if _, ok := cp.seen[r.Component+":"+r.Version]; ok {
			continue
		}
		g.Go(func() error {
			out[i], _ = cp.repo.Get(gctx, r.Component, r.Version)
			return nil
		})
	}
	_ = g.Wait() // the goroutines return no error
	return out
}

// resource plans one resource and returns how it moves and the local blobs
// it adds to the target version. pre is the resource's artifact when
// prefetch resolved it already.
func (cp *componentPlanner) resource(ctx context.Context, rs *resource.Content, cv *ocireg.Version, r *component.Resource, pre *resource.Artifact, targetCV string) (ResourceChange, []v1.Descriptor, error) {
	ch := ResourceChange{Name: r.Name, From: r.Access, To: r.Access}
	switch cp.route(r) {
	case routeNone:
		ch.How = "none"
		return ch, nil, nil
	case routeIndex:
		return cp.indexArtifact(ctx, rs, r, ch, targetCV)
	case routeLocal:
		ch.How = "local"
		lb, err := r.Access.LocalBlob()
		if err != nil {
			return ch, nil, fmt.Errorf("%s: %w", rs.Name(r), err)
		}
		descs, err := cp.localBlob(cv, r, lb, targetCV)
		if err != nil {
			return ch, nil, fmt.Errorf("%s: %w", rs.Name(r), err)
		}
		if len(descs) == 1 {
			ch.Digest = descs[0].Digest
			if ch.Checked, err = resource.CheckBlobDigest(r, descs[0].Digest); err != nil {
				return ch, nil, fmt.Errorf("%s: %w", rs.Name(r), err)
			}
		}
		if resource.IsArtifact(r) && len(cp.o.Verify) > 0 {
			// An OCM artifact set kept as it is: its digest is its image's.
			if ch.Checked, err = checkSet(ctx, rs, r); err != nil {
				return ch, nil, err
			}
		}
		return ch, descs, nil
	case routeByReference:
		ch.How = "by reference" // not fetched, so not checked: it does not cross
		return ch, nil, nil
	case routeArtifactSet:
		return cp.artifactSet(ctx, rs, r, ch, targetCV)
	case routeArtifact:
		return cp.artifact(ctx, rs, r, pre, ch, targetCV)
	case routeOCIBlob:
		return cp.ociBlob(rs, r, ch, targetCV)
	}
	return cp.unsupportedAccess(ctx, rs, r, ch, targetCV)
}

// prefetch resolves the images among the resources that are read from a
// registry or store by reference, and reads what planning them will read
// (transfer.Planner.Prefetch), PlanOptions.Jobs at a time. The resources
// are then planned one after another in descriptor order, which the plan's
// order (and so a bundle's bytes) follows, and find their reads done: the
// round trips overlap instead of adding up. An error is left to the
// planning of that resource, which meets it again.
func (cp *componentPlanner) prefetch(ctx context.Context, rs *resource.Content, rr []component.Resource) []*resource.Artifact {
	pre := make([]*resource.Artifact, len(rr))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(cp.o.jobs())
	for i := range rr {
		r := &rr[i]
		if k := r.Access.Kind(); cp.route(r) != routeArtifact || (k != component.AccessOCIArtifact && k != component.AccessRelativeOCIReference) {
			continue // artifact sets and v2 index entries are read from local blobs
		}
		g.Go(func() error {
			a, err := cp.open(gctx, rs, r)
			if err != nil {
				return nil
			}
			pre[i] = a
			cp.pl.Prefetch(gctx, a.Ref.Repo(), a.Descriptor)
			return nil
		})
	}
	_ = g.Wait() // the goroutines return no error
	return pre
}

// open opens the artifact of resource r and gives the planner the manifest
// bytes that opening read, so that planning it does not read them again.
func (cp *componentPlanner) open(ctx context.Context, rs *resource.Content, r *component.Resource) (*resource.Artifact, error) {
	a, err := rs.Artifact(ctx, r)
	if err != nil {
		return nil, err
	}
	cp.pl.Keep(a.Ref.Repo(), a.Descriptor, a.Manifest)
	return a, nil
}

// localBlob plans the copy of a local blob (each chunk of a chunked one)
// into the target version's repository.
func (cp *componentPlanner) localBlob(cv *ocireg.Version, r *component.Resource, lb component.LocalBlobAccess, targetCV string) ([]v1.Descriptor, error) {
	digests, err := ocireg.LocalReferenceDigests(lb.LocalReference)
	if err != nil {
		return nil, err
	}
	var out []v1.Descriptor
	for _, h := range digests {
		var d v1.Descriptor
		for _, l := range cv.Layers {
			if l.Digest == h {
				d = l
				break
			}
		}
		if d.Digest != h {
			return nil, fmt.Errorf("local blob %s is not a layer of %s: %w", h, cv.Ref, oci.ErrNotFound)
		}
		if lb.MediaType != "" && len(digests) == 1 {
			d.MediaType = types.MediaType(lb.MediaType)
		}
		cp.pl.AddBlob(cv.Ref.Repo(), d, targetCV)
		out = append(out, d)
	}
	return out, nil
}

// artifact plans the copy of an image-like resource and rewrites its access.
func (cp *componentPlanner) artifact(ctx context.Context, rs *resource.Content, r *component.Resource, pre *resource.Artifact, ch ResourceChange, targetCV string) (ResourceChange, []v1.Descriptor, error) {
	a := pre
	if a == nil {
		var err error
		if a, err = cp.open(ctx, rs, r); err != nil {
			return ch, nil, err
		}
	}
	from := a.Ref
	if set, ok := a.Reader.(*ctf.ArtifactSet); ok {
		// Read the set through the sources, under a repository of its
		// own; the sources keep it open until the plan has run.
		lb, _ := r.Access.LocalBlob()
		h, err := v1.NewHash(lb.LocalReference)
		if err != nil {
			a.Close()
			return ch, nil, fmt.Errorf("%s: %w", rs.Name(r), err)
		}
		repo := cp.src.addSet(h, set, a)
		if from, err = a.Ref.InRepo(repo); err != nil {
			return ch, nil, err
		}
	} else {
		defer a.Close()
	}
	name, tag, err := resource.ReferenceHint(r, cp.repo.Base())
	if err != nil {
		return ch, nil, fmt.Errorf("%s: %w", rs.Name(r), err)
	}
	if name == "" {
		name = ocireg.ComponentRepo("", rs.Version.Descriptor.Name)
	}
	targetRepo := name
	if base := cp.target.Repository.Base(); base != "" {
		targetRepo = base + "/" + name
	}
	var tags []string
	if tag != "" {
		tags = []string{tag}
	}
	local := cp.o.UploadAs == UploadAsLocalBlob
	if local {
		// Stored in the version's own repository, as an entry of its index.
		targetRepo, tags = targetCV, nil
	}
	d := a.Descriptor
	if err := cp.pl.AddResolved(ctx, from.Repo(), d, targetRepo, tags, rs.Name(r)); err != nil {
		return ch, nil, fmt.Errorf("%s: %w", rs.Name(r), err)
	}
	if ch.Checked, err = resource.CheckArtifactDigest(r, d.Digest); err != nil {
		return ch, nil, fmt.Errorf("%s: %w", rs.Name(r), err)
	}
	// A filtered index that an earlier run left in the target is what the
	// access must name; Run learns it again, but the plan must compare the
	// version with what the target holds.
	if err := cp.markLandedFilter(ctx, targetRepo, d.Digest); err != nil {
		return ch, nil, fmt.Errorf("%s: %w", rs.Name(r), err)
	}
	if r.Digest == nil {
		spec, err := component.OCIArtifactDigest(d.Digest.String())
		if err != nil {
			return ch, nil, err
		}
		r.Digest = &spec
	}
	if local {
		hint := name
		if tag != "" {
			hint += ":" + tag
		}
		acc, entry, err := uploadLocal(r, d, hint)
		if err != nil {
			return ch, nil, err
		}
		r.Access = acc
		ch.How, ch.To, ch.Digest = "by value", r.Access, d.Digest
		return ch, []v1.Descriptor{entry}, nil
	}
	ref := targetRepo
	if tag != "" {
		ref += ":" + tag
	}
	ref += "@" + d.Digest.String()
	if cp.target.Intermediate {
		r.Access, err = component.NewAccess(component.RelativeOCIReferenceAccess{Type: component.AccessRelativeOCIReference, Reference: ref})
		if err != nil {
			return ch, nil, err
		}
	} else {
		if cp.target.Scheme != "" {
			ref = cp.target.Scheme + "://" + ref
		}
		r.Access = component.NewOCIArtifactAccess(ref)
	}
	ch.How, ch.To, ch.Digest = "by value", r.Access, d.Digest
	return ch, nil, nil
}

// markLandedFilter marks a filtered index as landed when the target holds
// it already (and not the original).
func (cp *componentPlanner) markLandedFilter(ctx context.Context, targetRepo string, digest v1.Hash) error {
	a := cp.pl.Artifact(targetRepo, digest)
	if a == nil || a.Filter == nil || cp.target.Intermediate {
		return nil
	}
	dst := cp.target.Repository.Store()
	orig, err := dst.Exists(ctx, targetRepo, a.Descriptor())
	if err != nil || orig {
		return err
	}
	filtered, err := dst.Exists(ctx, targetRepo, a.Filtered())
	if err != nil {
		return err
	}
	a.Filter.Landed = filtered
	return nil
}

// relocate points the accesses of resources whose filtered index landed
// at that index, labels them with the original digest, and re-encodes
// their versions. Run calls it before it writes the versions: it needs
// nothing but the plan's data.
func relocate(p *Plan) error {
	for i := range p.Components {
		if err := p.Components[i].relocate(p.Landed); err != nil {
			return err
		}
	}
	return nil
}

// relocate does for one version what the function relocate does for all.
func (cv *ComponentVersion) relocate(landedAs func(target string, digest v1.Hash) (v1.Descriptor, bool)) error {
	changed := false
	var index func(component.Identity) int // made at the first resource that moved: most versions have none
	for j := range cv.Resources {
		ch := &cv.Resources[j]
		if ch.How != "by value" || ch.Digest == (v1.Hash{}) {
			continue
		}
		im, err := ocireg.ImageOf(ch.To, "")
		if err != nil {
			continue
		}
		landed, ok := landedAs(im.Ref.Repo(), ch.Digest)
		if !ok || landed.Digest == ch.Digest {
			continue
		}
		if index == nil {
			index = cv.Descriptor.ResourceLookup()
		}
		r := &cv.Descriptor.Resources[index(ch.Identity)]
		acc, err := ocireg.WithDigest(r.Access, ch.Digest.String(), landed.Digest.String())
		if err != nil {
			return fmt.Errorf("%s:%s resource %s: %w", cv.Name, cv.Version, r.Name, err)
		}
		r.Access, ch.To = acc, acc
		setLabel(r, resource.LabelFilteredFrom, ch.Digest.String())
		ch.Digest = landed.Digest
		changed = true
	}
	if !changed {
		return nil
	}
	cv.Stored = nil // the descriptor changed: encode it anew
	if err := cv.encode(); err != nil {
		return fmt.Errorf("encoding %s:%s: %w", cv.Name, cv.Version, err)
	}
	return nil
}

// setLabel sets (or replaces) a label of r.
func setLabel(r *component.Resource, name, value string) {
	v, _ := json.Marshal(value)
	for i := range r.Labels {
		if r.Labels[i].Name == name {
			r.Labels[i].Value = v
			return
		}
	}
	r.Labels = append(r.Labels, component.Label{Name: name, Value: v})
}

// ociBlob plans the copy of an ociBlob resource into a local blob of the
// target version.
func (cp *componentPlanner) ociBlob(rs *resource.Content, r *component.Resource, ch ResourceChange, targetCV string) (ResourceChange, []v1.Descriptor, error) {
	acc, err := r.Access.OCIBlob()
	if err != nil {
		return ch, nil, fmt.Errorf("%s: %w", rs.Name(r), err)
	}
	h, err := v1.NewHash(acc.Digest)
	if err != nil {
		return ch, nil, fmt.Errorf("%s: digest: %w", rs.Name(r), err)
	}
	ref, err := oci.ParseRef(acc.Ref)
	if err != nil {
		return ch, nil, fmt.Errorf("%s: ref: %w", rs.Name(r), err)
	}
	mt := acc.MediaType
	if mt == "" {
		mt = "application/octet-stream"
	}
	if acc.Size <= 0 {
		return ch, nil, fmt.Errorf("%s: ociBlob access without a size cannot be copied with verification", rs.Name(r))
	}
	d := v1.Descriptor{Digest: h, Size: acc.Size, MediaType: types.MediaType(mt)}
	if ch.Checked, err = resource.CheckBlobDigest(r, h); err != nil {
		return ch, nil, fmt.Errorf("%s: %w", rs.Name(r), err)
	}
	cp.pl.AddBlob(ref.WithDefaultRegistry().Repo(), d, targetCV)
	r.Access, err = component.NewAccess(component.LocalBlobAccess{Type: component.AccessLocalBlob, LocalReference: h.String(), MediaType: mt})
	if err != nil {
		return ch, nil, err
	}
	ch.How, ch.To, ch.Digest = "by value", r.Access, h
	return ch, []v1.Descriptor{d}, nil
}

func jsonString(s string) []byte {
	b, _ := json.Marshal(s)
	return b
}

// encoded returns what Run writes for the version, encoding it from its
// descriptor the first time (a plan read back from JSON has only the data).
func (cv *ComponentVersion) encoded() (*ocireg.Artifact, error) {
	if cv.artifact == nil {
		if err := cv.encode(); err != nil {
			return nil, err
		}
	}
	return cv.artifact, nil
}
