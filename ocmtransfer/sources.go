package ocmtransfer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/ferry-oci/ferry/ctf"
	"github.com/ferry-oci/ferry/oci"
	"github.com/ferry-oci/ferry/transfer"
)

// SourceReader is the source side of a component transfer as one
// oci.Reader: the store that holds the component versions (a registry or
// a CTF), the registries their image accesses name, and the OCM artifact
// sets opened from local blobs while planning. It routes each read by
// repository name: a repository with a host goes to Images, one registered
// for an artifact set to that set, any other to Store. NewPlan plans
// through it and Run reads through it. (The Source of a plan's artifacts,
// blobs and versions is the repository name it routes.)
type SourceReader struct {
	Store  oci.Reader // component versions and relative references
	Images oci.Reader // registries named by ociArtifact accesses; nil means Store

	mu      sync.Mutex
	sets    map[string]oci.Reader // synthetic repository prefix -> artifact set
	closers []io.Closer           // what opening the sets took
}

// ArtifactSetHost prefixes the repositories under which a SourceReader
// serves the artifact sets it opened (images stored by value in local
// blobs); the ".invalid" domain can never be a real registry.
const ArtifactSetHost = "artifact-set.invalid"

// addSet registers an artifact set read from the local blob with digest
// blob and returns the repository under which its content is read. The
// SourceReader owns c from then on: Close closes it (at once when the set
// was registered already).
func (s *SourceReader) addSet(blob v1.Hash, r oci.Reader, c io.Closer) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sets == nil {
		s.sets = map[string]oci.Reader{}
	}
	repo := ArtifactSetHost + "/" + blob.Algorithm + "-" + blob.Hex
	if _, ok := s.sets[repo]; ok {
		c.Close()
		return repo
	}
	s.sets[repo] = r
	s.closers = append(s.closers, c)
	return repo
}

// Close releases the artifact sets opened while planning (a compressed set
// is unpacked into a temporary directory). Call it once the plan has run or
// is dropped; reads of the sets fail after. Store and Images are the
// caller's and stay open.
func (s *SourceReader) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for _, c := range s.closers {
		errs = append(errs, c.Close())
	}
	s.closers, s.sets = nil, nil
	return errors.Join(errs...)
}

func (s *SourceReader) route(repo string) oci.Reader {
	first, _, _ := strings.Cut(repo, "/")
	if first == ArtifactSetHost {
		s.mu.Lock()
		defer s.mu.Unlock()
		for prefix, r := range s.sets {
			if repo == prefix || strings.HasPrefix(repo, prefix+"/") {
				return r
			}
		}
		return s.openSetLocked(repo)
	}
	if s.Images != nil && (strings.ContainsAny(first, ".:") || first == "localhost") {
		return s.Images
	}
	return s.Store
}

// openSetLocked opens the artifact set a repository under ArtifactSetHost
// names, by its blob digest, from a Store that reads blobs by digest alone
// (a CTF): a plan read back from JSON names sets no planner registered. It
// returns nil when it cannot.
func (s *SourceReader) openSetLocked(repo string) oci.Reader {
	rest := strings.TrimPrefix(repo, ArtifactSetHost+"/")
	name, _, _ := strings.Cut(rest, "/")
	alg, hex, ok := strings.Cut(name, "-")
	bf, isFiler := s.Store.(interface {
		OpenBlob(h v1.Hash) (*ctf.BlobFile, error)
	})
	if !ok || !isFiler {
		return nil
	}
	h, err := v1.NewHash(alg + ":" + hex)
	if err != nil {
		return nil
	}
	f, err := bf.OpenBlob(h)
	if err != nil {
		return nil
	}
	set, err := ctf.OpenArtifactSet(f, f.Size())
	if err != nil {
		f.Close()
		return nil
	}
	if s.sets == nil {
		s.sets = map[string]oci.Reader{}
	}
	prefix := ArtifactSetHost + "/" + name
	s.sets[prefix] = set
	s.closers = append(s.closers, set, f)
	return set
}

// Has reports whether the routed reader holds d in repo: by its Exists when
// it has one (a HEAD to a registry), else by opening it.
func (s *SourceReader) Has(ctx context.Context, repo string, d v1.Descriptor) (bool, error) {
	r := s.route(repo)
	if r == nil {
		return false, nil
	}
	if e, ok := r.(interface {
		Exists(ctx context.Context, repo string, d v1.Descriptor) (bool, error)
	}); ok {
		return e.Exists(ctx, repo, d)
	}
	rc, err := r.Fetch(ctx, repo, d)
	if errors.Is(err, oci.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	rc.Close()
	return true, nil
}

// Resolve implements oci.Reader.
func (s *SourceReader) Resolve(ctx context.Context, ref oci.Ref) (v1.Descriptor, error) {
	r := s.route(ref.Repo())
	if r == nil {
		return v1.Descriptor{}, fmt.Errorf("resolving %s: no artifact set registered: %w", ref, oci.ErrNotFound)
	}
	return r.Resolve(ctx, ref)
}

// ReadManifest implements oci.ManifestReader for the routed reader.
func (s *SourceReader) ReadManifest(ctx context.Context, ref oci.Ref) (v1.Descriptor, []byte, error) {
	r := s.route(ref.Repo())
	if r == nil {
		return v1.Descriptor{}, nil, fmt.Errorf("resolving %s: no artifact set registered: %w", ref, oci.ErrNotFound)
	}
	return oci.ReadManifest(ctx, r, ref)
}

// Fetch implements oci.Reader.
func (s *SourceReader) Fetch(ctx context.Context, repo string, d v1.Descriptor) (io.ReadCloser, error) {
	r := s.route(repo)
	if r == nil {
		return nil, fmt.Errorf("fetching %s@%s: no artifact set registered: %w", repo, d.Digest, oci.ErrNotFound)
	}
	return r.Fetch(ctx, repo, d)
}

// Tags implements oci.TagLister for the routed reader; a reader that cannot
// list tags has none to offer (attachments are then not found by tag).
func (s *SourceReader) Tags(ctx context.Context, repo string) ([]string, error) {
	if tl, ok := s.route(repo).(oci.TagLister); ok {
		return tl.Tags(ctx, repo)
	}
	return nil, nil
}

// Referrers implements transfer.Referrer for the routed reader; from a reader
// without the API (a CTF, a bundle) it reads the referrers tag schema
// (oci.TagReferrers), as registries without the API keep them.
func (s *SourceReader) Referrers(ctx context.Context, repo string, subject v1.Hash, artifactType string) ([]v1.Descriptor, error) {
	r := s.route(repo)
	if rr, ok := r.(transfer.Referrer); ok {
		return rr.Referrers(ctx, repo, subject, artifactType)
	}
	if r == nil {
		return nil, nil
	}
	ds, err := oci.TagReferrers(ctx, r, repo, subject)
	if err != nil || artifactType == "" {
		return ds, err
	}
	var out []v1.Descriptor
	for _, d := range ds {
		if d.ArtifactType == artifactType {
			out = append(out, d)
		}
	}
	return out, nil
}

// ReferrersAPI implements transfer.APIReferrer for the routed reader; a reader
// without it has no API.
func (s *SourceReader) ReferrersAPI(ctx context.Context, repo string, subject v1.Hash, artifactType string) ([]v1.Descriptor, bool, error) {
	if rr, ok := s.route(repo).(transfer.APIReferrer); ok {
		return rr.ReferrersAPI(ctx, repo, subject, artifactType)
	}
	return nil, false, nil
}
