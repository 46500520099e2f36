package transfer

import (
	"context"
	"errors"
	"fmt"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/ferry-oci/ferry/oci"
)

// Referrer is an optional oci.Reader extension that lists the OCI 1.1
// referrers of a manifest: the manifests in repo whose subject is subject,
// of artifactType ("" for all). No referrers is an empty list, not an
// error. oci/remote's Store implements it (asking the referrers API, then
// the referrers tag schema). Stores without it still yield the referrers
// they keep under the tag schema, which the planner finds in their tag list.
type Referrer interface {
	Referrers(ctx context.Context, repo string, subject v1.Hash, artifactType string) ([]v1.Descriptor, error)
}

// APIReferrer is a Referrer that can ask the OCI 1.1 referrers API alone,
// reporting with api false that the store has none. The planner, which has
// the repository's tags listed already, then knows from them whether the
// tag schema holds referrers and sends nothing more (oci/remote remembers a
// registry without the API).
type APIReferrer interface {
	ReferrersAPI(ctx context.Context, repo string, subject v1.Hash, artifactType string) (ds []v1.Descriptor, api bool, err error)
}

// The kinds of attachment (Artifact.Attachment).
const (
	kindReferrer  = "referrer"  // an OCI 1.1 manifest with a subject
	kindReferrers = "referrers" // the index of referrers under the tag schema
)

// cosignKinds are the suffixes of the tags cosign keeps its signatures,
// attestations and SBOMs under: sha256-<hex>.<kind>.
var cosignKinds = []string{"sig", "att", "sbom"}

// attachment marks an artifact as belonging to another one.
type attachment struct {
	kind    string
	subject v1.Hash
}

// mark records att on a; the subject a manifest names itself wins.
func (att attachment) mark(a *Artifact, manifest []byte) error {
	a.Attachment = att.kind
	s, err := oci.Subject(manifest)
	if err != nil {
		return err
	}
	switch {
	case s != nil:
		h := s.Digest
		a.Subject = &h
	case att.subject != (v1.Hash{}):
		h := att.subject
		a.Subject = &h
	}
	return nil
}

// attachmentCache holds what the planner learnt about the source's
// attachments, so that each repository's tags are listed once and each
// manifest's attachments looked up once, however many targets it goes to.
type attachmentCache struct {
	mu    sync.Mutex
	tags  map[string]*tagSet
	found map[key]*foundSet // key{source repository, subject}
}

type tagSet struct {
	once sync.Once
	tags map[string]bool
	err  error
}

type foundSet struct {
	once sync.Once
	list []found
	err  error
}

// found is one attachment of a manifest in the source.
type found struct {
	kind string
	desc v1.Descriptor
	tag  string // the tag it is kept under in the source; "" for a referrer the API listed
}

// attach plans the attachments of the manifest subject of srcRepo into to.
func (p *Planner) attach(ctx context.Context, srcRepo string, subject v1.Hash, to, forWhat string, depth int) error {
	list, err := p.discover(ctx, srcRepo, subject)
	if err != nil {
		return err
	}
	for _, f := range list {
		if err := p.add(ctx, srcRepo, f.desc, to, forWhat, depth+1, attachment{kind: f.kind, subject: subject}); err != nil {
			return fmt.Errorf("copying the %s attachment %s of %s@%s: %w", f.kind, f.desc.Digest, srcRepo, subject, err)
		}
		if f.tag != "" {
			p.addTags(key{to, f.desc.Digest}, []string{f.tag}, nil)
		}
	}
	return nil
}

// discover finds the attachments of the manifest subject in repo: the
// cosign tags and the referrers tag schema index in the repository's tag
// list (one request per repository), else the referrers the source lists
// when it is a Referrer.
func (p *Planner) discover(ctx context.Context, repo string, subject v1.Hash) ([]found, error) {
	p.found.mu.Lock()
	if p.found.found == nil {
		p.found.found = map[key]*foundSet{}
	}
	e, ok := p.found.found[key{repo, subject}]
	if !ok {
		e = &foundSet{}
		p.found.found[key{repo, subject}] = e
	}
	p.found.mu.Unlock()
	e.once.Do(func() { e.list, e.err = p.discoverOnce(ctx, repo, subject) })
	return e.list, e.err
}

func (p *Planner) discoverOnce(ctx context.Context, repo string, subject v1.Hash) ([]found, error) {
	tags, err := p.tags(ctx, repo)
	if err != nil {
		return nil, err
	}
	prefix := oci.ReferrersTag(subject)
	var out []found
	resolve := func(kind, tag string) error {
		ref, err := oci.ParseRef(repo + ":" + tag)
		if err != nil {
			return err
		}
		d, err := p.read(ctx, ref)
		if errors.Is(err, oci.ErrNotFound) {
			return nil // removed since the tags were listed
		}
		if err != nil {
			return fmt.Errorf("resolving %s: %w", ref, oci.WithSide(err, oci.Source, "resolve"))
		}
		out = append(out, found{kind: kind, desc: d, tag: tag})
		return nil
	}
	for _, kind := range cosignKinds {
		if tags[prefix+"."+kind] {
			if err := resolve(kind, prefix+"."+kind); err != nil {
				return nil, err
			}
		}
	}
	if tags[prefix] {
		return out, resolve(kindReferrers, prefix)
	}
	if r, ok := p.src.(APIReferrer); ok && tags != nil {
		ds, _, err := r.ReferrersAPI(ctx, repo, subject, "")
		if err != nil && !errors.Is(err, oci.ErrNotFound) && !errors.Is(err, oci.ErrUnsupported) {
			return nil, fmt.Errorf("listing the referrers of %s@%s: %w", repo, subject, oci.WithSide(err, oci.Source, "referrers"))
		}
		for _, d := range ds {
			out = append(out, found{kind: kindReferrer, desc: d})
		}
		return out, nil
	}
	if r, ok := p.src.(Referrer); ok {
		ds, err := r.Referrers(ctx, repo, subject, "")
		if err != nil && !errors.Is(err, oci.ErrNotFound) && !errors.Is(err, oci.ErrUnsupported) {
			return nil, fmt.Errorf("listing the referrers of %s@%s: %w", repo, subject, oci.WithSide(err, oci.Source, "referrers"))
		}
		for _, d := range ds {
			out = append(out, found{kind: kindReferrer, desc: d})
		}
	}
	return out, nil
}

// tags returns the tags of repo in the source, listed once; none when the
// source cannot list tags.
func (p *Planner) tags(ctx context.Context, repo string) (map[string]bool, error) {
	tl, ok := p.src.(oci.TagLister)
	if !ok {
		return nil, nil
	}
	p.found.mu.Lock()
	if p.found.tags == nil {
		p.found.tags = map[string]*tagSet{}
	}
	e, ok := p.found.tags[repo]
	if !ok {
		e = &tagSet{}
		p.found.tags[repo] = e
	}
	p.found.mu.Unlock()
	e.once.Do(func() {
		list, err := tl.Tags(ctx, repo)
		if err != nil && !errors.Is(err, oci.ErrNotFound) && !errors.Is(err, oci.ErrUnsupported) {
			e.err = fmt.Errorf("listing the tags of %s to find attachments: %w", repo, oci.WithSide(err, oci.Source, "list"))
			return
		}
		e.tags = make(map[string]bool, len(list))
		for _, t := range list {
			e.tags[t] = true
		}
	})
	return e.tags, e.err
}
