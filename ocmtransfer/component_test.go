package ocmtransfer_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ferry-oci/ferry/internal/fixture"

	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/component/ocireg"
	"github.com/ferry-oci/ferry/ctf"
	"github.com/ferry-oci/ferry/internal/registrytest"
	"github.com/ferry-oci/ferry/oci"
	"github.com/ferry-oci/ferry/oci/remote"
	"github.com/ferry-oci/ferry/ocmtransfer"
	"github.com/ferry-oci/ferry/transfer"
)

// The fixture release (shared/testdata/ocm, made by the OCM CLI; see its
// COMMANDS.log): example.com/podinfo 6.3.5 (single-platform Docker image),
// 6.3.6 (two-platform OCI index) and example.com/app 1.0.0, which references
// podinfo 6.3.5.
const (
	fixtureHost  = "127.0.0.1:5055" // the registry the fixtures were made with
	image635     = "sha256:dec1e7679a6dc3e79db0a1765eeb0de7f1e8ab19c97ce4f10b2125f4e789d774"
	image636     = "sha256:925ee23a84a5ed63ae20ed075a0d3eace84c9a167a6974b35294966029a4385a"
	configBlob   = "sha256:01be29a86d5dbaacecc53a381ff194f72bb62c8422ec7e6fa683e3535f96472c" // podinfo's config resource
	image635Blob = "sha256:46655ae7217bbf84abf11f8bc3b2bb08ed1fe0702b3aad34f3bc1a1d6b7df2c8" // the 6.3.5 image's layer
)

// sharedOCM returns the OCM CLI fixtures joined with elem.
func sharedOCM(t testing.TB, elem ...string) string { t.Helper(); return fixture.OCM(t, elem...) }

func readShared(t testing.TB, elem ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(sharedOCM(t, elem...))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func openCTF(t testing.TB, name string) *ctf.Archive {
	t.Helper()
	a, err := ctf.Open(sharedOCM(t, name), ctf.ReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

// keychain gives each registry host its basic-auth credentials.
type keychain map[string]authn.Authenticator

func (k keychain) Resolve(r authn.Resource) (authn.Authenticator, error) {
	if a, ok := k[r.RegistryStr()]; ok {
		return a, nil
	}
	return authn.Anonymous, nil
}

// storeFor returns a fresh registry Store (as a new ferry process would
// have) that trusts and logs in to regs.
func storeFor(t testing.TB, regs ...*registrytest.Registry) *remote.Store {
	t.Helper()
	kc := keychain{}
	opts := []remote.Option{remote.WithRetry(2, time.Millisecond)}
	for _, r := range regs {
		if r.CAFile != "" {
			opts = append(opts, remote.WithCAFile(r.CAFile))
		}
		if r.User != "" {
			kc[r.Host] = &authn.Basic{Username: r.User, Password: r.Password}
		}
	}
	s, err := remote.New(append(opts, remote.WithKeychain(kc))...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// end is one side of a component transfer: a store and the base the
// versions live under ("" in a CTF), with the scheme the user gave.
type end struct {
	store        oci.Store
	base, scheme string
	intermediate bool
}

func versions(t testing.TB, nvs ...string) []component.Ref {
	t.Helper()
	var out []component.Ref
	for _, nv := range nvs {
		n, v, ok := strings.Cut(nv, ":")
		if !ok {
			t.Fatalf("bad name:version %q", nv)
		}
		out = append(out, component.Ref{Component: n, Version: v})
	}
	return out
}

// plan plans refs from `from` to `to`, wired as `ferry transfer` wires it.
func plan(ctx context.Context, from end, images oci.Reader, refs []component.Ref, to end, o ocmtransfer.PlanOptions) (*ocmtransfer.Plan, *ocmtransfer.SourceReader, error) {
	src := &ocmtransfer.SourceReader{Store: from.store, Images: images}
	target := ocmtransfer.Target{Repository: ocireg.New(to.store, to.base), Scheme: to.scheme, Intermediate: to.intermediate}
	p, err := ocmtransfer.NewPlan(ctx, src, ocireg.New(from.store, from.base), refs, target, o)
	return p, src, err
}

// move plans and runs a transfer.
func move(ctx context.Context, from end, images oci.Reader, refs []component.Ref, to end, o ocmtransfer.PlanOptions, ro transfer.Options) (*ocmtransfer.Plan, *ocmtransfer.Report, error) {
	p, src, err := plan(ctx, from, images, refs, to, o)
	if err != nil {
		return nil, nil, err
	}
	defer src.Close()
	rep, err := ocmtransfer.Run(ctx, p, src, to.store, ro)
	return p, rep, err
}

var allFixtureVersions = []string{"example.com/app:1.0.0", "example.com/podinfo:6.3.5", "example.com/podinfo:6.3.6"}

// seedSource starts a registry and transfers the fixture release with its
// images as OCM artifact sets (ctf-copied) into it under the base "ocm", as
// `ferry transfer ./ctf-copied http://HOST/ocm` does: the images become real
// OCI artifacts at HOST/ocm/stefanprodan/podinfo.
func seedSource(t *testing.T) *registrytest.Registry {
	t.Helper()
	src := registrytest.New(t)
	s := storeFor(t, src)
	from := end{store: openCTF(t, "ctf-copied")}
	to := end{store: s, base: src.Host + "/ocm", scheme: "http"}
	if _, _, err := move(t.Context(), from, s, versions(t, allFixtureVersions...), to, ocmtransfer.PlanOptions{}, transfer.Options{}); err != nil {
		t.Fatalf("seeding the source registry from ctf-copied: %v", err)
	}
	return src
}

// mirror transfers app 1.0.0 and podinfo 6.3.6 recursively from src/ocm to
// dst/mirror, as the fixture's `ocm transfer componentversions
// --copy-resources --recursive` did.
func mirror(ctx context.Context, t testing.TB, src, dst *registrytest.Registry, dstScheme string, ro transfer.Options) (*ocmtransfer.Plan, *ocmtransfer.Report, error) {
	s := storeFor(t, src, dst)
	return mirrorTo(ctx, t, src, s, dst.Host, dstScheme, ro)
}

// mirrorTo is mirror into the registry that s reaches as dstHost.
func mirrorTo(ctx context.Context, t testing.TB, src *registrytest.Registry, s oci.Store, dstHost, dstScheme string, ro transfer.Options) (*ocmtransfer.Plan, *ocmtransfer.Report, error) {
	from := end{store: s, base: src.Host + "/ocm"}
	to := end{store: s, base: dstHost + "/mirror", scheme: dstScheme}
	return move(ctx, from, s, versions(t, "example.com/app:1.0.0", "example.com/podinfo:6.3.6"), to, ocmtransfer.PlanOptions{Recursive: true}, ro)
}

// asFixture returns a Store for src and dst in which dst is addressed as the
// fixture registry 127.0.0.1:5055, so that what is written there does not
// depend on dst's port and two target registries can be compared by digest.
func asFixture(t testing.TB, src, dst *registrytest.Registry) alias {
	return alias{Store: storeFor(t, src, dst), from: fixtureHost, to: dst.Host}
}

// closure walks every tag of every repository of a store and checks that
// everything it names is there: the manifests' children and blobs, and for
// component versions every local blob and every image access (by digest). It
// returns every tag with its digest, the host replaced by "HOST".
func closure(ctx context.Context, t testing.TB, s oci.Store, lister oci.RepositoryLister, host string) map[string]v1.Hash {
	t.Helper()
	repos, err := lister.Repositories(ctx)
	if err != nil {
		t.Fatalf("listing repositories: %v", err)
	}
	out := map[string]v1.Hash{}
	seen := map[string]bool{}
	var walk func(repo string, d v1.Descriptor, what string)
	walk = func(repo string, d v1.Descriptor, what string) {
		k := repo + "@" + d.Digest.String()
		if seen[k] {
			return
		}
		seen[k] = true
		b, err := oci.FetchBytes(ctx, s, repo, d, oci.MaxManifestBytes)
		if err != nil {
			t.Errorf("%s: manifest %s in %s: %v", what, d.Digest, repo, err)
			return
		}
		kids, err := oci.Children(d.MediaType, b)
		if err != nil {
			t.Errorf("%s: manifest %s in %s: %v", what, d.Digest, repo, err)
			return
		}
		for _, c := range kids {
			if oci.IsManifest(c.MediaType) {
				walk(repo, c, what)
				continue
			}
			if ok, err := s.Exists(ctx, repo, c); err != nil || !ok {
				t.Errorf("%s: manifest %s in %s names blob %s, which is missing (%v)", what, d.Digest, repo, c.Digest, err)
			}
		}
	}
	tl := s.(oci.TagLister)
	for _, repo := range repos {
		tags, err := tl.Tags(ctx, repo)
		if err != nil {
			t.Fatalf("listing tags of %s: %v", repo, err)
		}
		for _, tag := range tags {
			ref, err := oci.ParseRef(repo + ":" + tag)
			if err != nil {
				t.Fatal(err)
			}
			d, err := s.Resolve(ctx, ref)
			if err != nil {
				t.Errorf("resolving %s: %v", ref, err)
				continue
			}
			k := ref.String()
			if host != "" {
				k = strings.Replace(k, host, "HOST", 1)
			}
			out[k] = d.Digest
			walk(repo, d, ref.String())
			base, name, ok := strings.Cut(repo, "/component-descriptors/")
			if !ok {
				if strings.HasPrefix(repo, "component-descriptors/") {
					base, name, ok = "", strings.TrimPrefix(repo, "component-descriptors/"), true
				}
			}
			if ok {
				checkVersion(ctx, t, s, ocireg.New(s, base), name, ocireg.TagVersion(tag), walk)
			}
		}
	}
	return out
}

// checkVersion checks that every resource of a component version resolves:
// local blobs are layers of its manifest (walked already), images are where
// their accesses say, by digest.
func checkVersion(ctx context.Context, t testing.TB, s oci.Store, repo *ocireg.Repository, name, version string, walk func(string, v1.Descriptor, string)) {
	cv, err := repo.Get(ctx, name, version)
	if err != nil {
		t.Errorf("reading %s:%s: %v", name, version, err)
		return
	}
	what := name + ":" + version
	for _, r := range cv.Descriptor.Resources {
		var ref string
		switch r.Access.Kind() {
		case component.AccessLocalBlob:
			lb, err := r.Access.LocalBlob()
			if err != nil {
				t.Errorf("%s resource %s: %v", what, r.Name, err)
				continue
			}
			hs, err := ocireg.LocalReferenceDigests(lb.LocalReference)
			if err != nil {
				t.Errorf("%s resource %s: %v", what, r.Name, err)
			}
			for _, h := range hs {
				if !slices.ContainsFunc(cv.Layers[1:], func(l v1.Descriptor) bool { return l.Digest == h }) {
					t.Errorf("%s resource %s: local blob %s is not a layer of %s", what, r.Name, h, cv.Ref)
				}
			}
			continue
		case component.AccessOCIArtifact:
			acc, _ := r.Access.OCIArtifact()
			ref = strings.TrimPrefix(strings.TrimPrefix(acc.ImageReference, "https://"), "http://")
		case component.AccessRelativeOCIReference:
			acc, _ := r.Access.RelativeOCIReference()
			ref = acc.Reference
			if repo.Base() != "" {
				ref = repo.Base() + "/" + ref
			}
		default:
			continue
		}
		pr, err := oci.ParseRef(ref)
		if err != nil {
			t.Errorf("%s resource %s: %v", what, r.Name, err)
			continue
		}
		if pr.Digest == (v1.Hash{}) {
			continue // by reference, outside this store
		}
		d, err := s.Resolve(ctx, pr)
		if err != nil || d.Digest != pr.Digest {
			t.Errorf("%s resource %s: %s does not resolve (%v, %v)", what, r.Name, pr, d.Digest, err)
			continue
		}
		walk(pr.Repo(), d, what+" resource "+r.Name)
	}
}

// scrub maps this test's registry addresses to the fixture registry's
// (both http://127.0.0.1:5055 in the fixtures).
func scrub(b []byte, hosts ...string) []byte {
	for _, h := range hosts {
		for _, scheme := range []string{"https://", "http://"} {
			b = bytes.ReplaceAll(b, []byte(scheme+h), []byte("http://"+fixtureHost))
		}
		b = bytes.ReplaceAll(b, []byte(h), []byte(fixtureHost))
	}
	return b
}

// TestComponentMirrorBetweenRegistries is the fixture's `ocm transfer
// componentversions --copy-resources --recursive ocm//app:1.0.0
// ocm//podinfo:6.3.6 mirror`, between two real registries, the target with
// TLS and basic auth.
func TestComponentMirrorBetweenRegistries(t *testing.T) {
	ctx := t.Context()
	src := seedSource(t)
	dst := registrytest.New(t, registrytest.WithTLS(), registrytest.WithAuth("ferry", "s3cret"))

	var mu sync.Mutex
	var tagged []string
	p, rep, err := mirror(ctx, t, src, dst, "https", transfer.Options{Jobs: 4, Progress: func(e transfer.Event) {
		if e.Kind == transfer.TagDone {
			mu.Lock()
			tagged = append(tagged, e.Repo)
			mu.Unlock()
		}
	}})
	if err != nil {
		t.Fatal(err)
	}

	// References first: podinfo 6.3.5 is planned and written before app 1.0.0.
	var order []string
	for _, cv := range p.Components {
		order = append(order, cv.Name+":"+cv.Version)
	}
	if want := []string{"example.com/podinfo:6.3.5", "example.com/app:1.0.0", "example.com/podinfo:6.3.6"}; !slices.Equal(order, want) {
		t.Errorf("planned versions %v, want %v", order, want)
	}
	pos := func(suffix string) int {
		return slices.IndexFunc(tagged, func(s string) bool { return strings.HasSuffix(s, suffix) })
	}
	if a, b := pos("/component-descriptors/example.com/podinfo:6.3.5"), pos("/component-descriptors/example.com/app:1.0.0"); a < 0 || b < 0 || a > b {
		t.Errorf("tags set in order %v: podinfo 6.3.5 must come before app 1.0.0", tagged)
	}
	if rep.ComponentsWritten != 3 || rep.ComponentsSkipped != 0 {
		t.Errorf("report: %d versions written, %d skipped; want 3, 0", rep.ComponentsWritten, rep.ComponentsSkipped)
	}

	// Every tag in the target, with everything below it.
	s := storeFor(t, dst)
	tags := closure(ctx, t, s, s.Lister(dst.Host), dst.Host)
	amd, arm := childDigests(t)
	for ref, want := range map[string]string{
		"HOST/mirror/stefanprodan/podinfo:6.3.5": image635,
		"HOST/mirror/stefanprodan/podinfo:6.3.6": image636,
	} {
		if got := tags[ref].String(); got != want {
			t.Errorf("%s is %s, want the source digest %s", ref, got, want)
		}
	}
	for _, c := range []v1.Hash{amd, arm} {
		if ok, err := s.Exists(ctx, dst.Host+"/mirror/stefanprodan/podinfo", v1.Descriptor{Digest: c, MediaType: "application/vnd.oci.image.manifest.v1+json"}); !ok || err != nil {
			t.Errorf("index child %s missing in the target (%v)", c, err)
		}
	}
	var cds []string
	for ref := range tags {
		if strings.Contains(ref, "/component-descriptors/") {
			cds = append(cds, ref)
		}
	}
	slices.Sort(cds)
	if want := []string{"HOST/mirror/component-descriptors/example.com/app:1.0.0", "HOST/mirror/component-descriptors/example.com/podinfo:6.3.5",
		"HOST/mirror/component-descriptors/example.com/podinfo:6.3.6"}; !slices.Equal(cds, want) {
		t.Errorf("component versions in the target: %v, want %v", cds, want)
	}

	// The descriptors equal what ocm wrote, byte for byte, once the
	// registry addresses are the fixture's; so do the descriptor layer, the
	// config and the manifest computed from them.
	repo := ocireg.New(s, dst.Host+"/mirror")
	for _, c := range []struct{ name, version, output, dump string }{
		{"example.com/podinfo", "6.3.5", "e-get-cv-mirror.yaml", "mirror.podinfo-6.3.5"},
		{"example.com/podinfo", "6.3.6", "e-get-cv-mirror-6.3.6.yaml", "mirror.podinfo-6.3.6"},
		{"example.com/app", "1.0.0", "", "mirror.app-1.0.0"},
	} {
		cv, err := repo.Get(ctx, c.name, c.version)
		if err != nil {
			t.Fatal(err)
		}
		raw := scrub(cv.Raw, src.Host, dst.Host)
		if c.output != "" {
			if want := readShared(t, "outputs", c.output); !bytes.Equal(append([]byte("---\n"), raw...), want) {
				t.Errorf("%s:%s: the descriptor differs from outputs/%s:\n%s\nwant:\n%s", c.name, c.version, c.output, raw, want)
			}
		}
		if want := readShared(t, "registry", c.dump+".component-descriptor.yaml"); !bytes.Equal(raw, want) {
			t.Errorf("%s:%s: the descriptor differs from registry/%s.component-descriptor.yaml:\n%s", c.name, c.version, c.dump, raw)
		}
		d, err := component.Decode(raw)
		if err != nil {
			t.Fatal(err)
		}
		art, err := ocireg.Manifest(d, cv.Layers[1:], ocireg.WriteOptions{Creator: cv.Annotations[ocireg.AnnotationCreator]})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range []struct {
			file string
			got  []byte
		}{{".manifest.json", art.ManifestBytes}, {".config.json", art.ConfigBytes}, {".cd-layer.tar", art.LayerBytes}} {
			if want := readShared(t, "registry", c.dump+f.file); !bytes.Equal(f.got, want) {
				t.Errorf("%s:%s: %s differs from registry/%s%s", c.name, c.version, f.file, c.dump, f.file)
			}
		}
	}
	for _, tag := range []string{"6.3.5", "6.3.6"} {
		ref, _ := oci.ParseRef(dst.Host + "/mirror/stefanprodan/podinfo:" + tag)
		d, err := s.Resolve(ctx, ref)
		if err != nil {
			t.Fatal(err)
		}
		b, err := oci.FetchBytes(ctx, s, ref.Repo(), d, oci.MaxManifestBytes)
		if err != nil {
			t.Fatal(err)
		}
		if want := readShared(t, "registry", "mirror.stefanprodan-podinfo-"+tag+".manifest.json"); !bytes.Equal(b, want) {
			t.Errorf("image %s: manifest differs from the dump's", tag)
		}
	}
}

// childDigests returns the digests of the 6.3.6 index's two children.
func childDigests(t testing.TB) (amd, arm v1.Hash) {
	t.Helper()
	b := readShared(t, "images", "podinfo-6.3.6.manifest.json")
	kids, err := oci.Children("application/vnd.oci.image.index.v1+json", b)
	if err != nil || len(kids) != 2 {
		t.Fatalf("reading the fixture index: %v (%d children)", err, len(kids))
	}
	return kids[0].Digest, kids[1].Digest
}

// TestComponentRerunReadsOnlyManifests: a second run of the same transfer
// sends no blob and writes nothing; it reads manifests (and, to plan, the
// source descriptors) only.
func TestComponentRerunReadsOnlyManifests(t *testing.T) {
	ctx := t.Context()
	src := seedSource(t)
	dst := registrytest.New(t, registrytest.WithTLS(), registrytest.WithAuth("ferry", "s3cret"))
	if _, _, err := mirror(ctx, t, src, dst, "https", transfer.Options{}); err != nil {
		t.Fatal(err)
	}
	src.ResetRequests()
	dst.ResetRequests()
	p, rep, err := mirror(ctx, t, src, dst, "https", transfer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srcReqs, dstReqs := src.Requests(), dst.Requests()
	if rep.BytesCopied != 0 || rep.BlobsCopied != 0 || rep.ManifestsPushed != 0 || rep.TagsSet != 0 || rep.ComponentsWritten != 0 {
		t.Errorf("a re-run copied something: %+v", rep)
	}
	if rep.ComponentsSkipped != 3 {
		t.Errorf("a re-run skipped %d versions, want 3", rep.ComponentsSkipped)
	}
	for _, cv := range p.Components {
		if !cv.Skip {
			t.Errorf("%s:%s is not planned as skipped", cv.Name, cv.Version)
		}
	}
	// The source serves manifests, and of each component version the config
	// and the descriptor layer that planning decodes: no other blob.
	descriptorBlobs := map[string]bool{}
	s := storeFor(t, src)
	for _, nv := range allFixtureVersions {
		n, v, _ := strings.Cut(nv, ":")
		cv, err := ocireg.New(s, src.Host+"/ocm").Get(ctx, n, v)
		if err != nil {
			t.Fatal(err)
		}
		descriptorBlobs[cv.Config.Digest.String()] = true
		descriptorBlobs[cv.DescriptorLayer.Digest.String()] = true
	}
	blobGets := 0
	for _, r := range srcReqs.Filter("GET", "") {
		if strings.Contains(r.Path, "/blobs/") {
			blobGets++
		}
		if _, dg, ok := strings.Cut(r.Path, "/blobs/"); ok && !descriptorBlobs[dg] {
			t.Errorf("a re-run read blob %s from the source", r.Path)
		}
	}
	for _, m := range []string{"PUT", "POST", "PATCH", "DELETE"} {
		if n := dstReqs.Count(m, ""); n != 0 {
			t.Errorf("a re-run sent %d %s requests to the target", n, m)
		}
	}
	if blobGets != len(descriptorBlobs) {
		t.Errorf("a re-run read %d blobs from the source, want the %d of the descriptors", blobGets, len(descriptorBlobs))
	}
	// Planning reads ahead concurrently (prefetch) and then plans in order:
	// nothing is asked twice, of either registry.
	for name, reqs := range map[string]registrytest.Requests{"source": srcReqs, "target": dstReqs} {
		seen := map[string]int{}
		for _, r := range reqs {
			if r.Path != "/v2/" && r.Status < 400 {
				seen[r.Method+" "+r.Path]++
			}
		}
		for req, n := range seen {
			if n > 1 {
				t.Errorf("a re-run sent %s to the %s %d times", req, name, n)
			}
		}
	}
	t.Logf("no-op re-run: %d requests to the source (%d HEAD, %d GET of which %d descriptor blobs), %d to the target (%d HEAD, %d GET)",
		len(srcReqs), srcReqs.Count("HEAD", ""), srcReqs.Count("GET", ""), blobGets, len(dstReqs), dstReqs.Count("HEAD", ""), dstReqs.Count("GET", ""))
}

// TestComponentCancelledRunsLeaveNoDanglingTag cancels the mirror transfer
// at many points; after each, every tag and component version in the target
// is complete, and a final run gives what an uninterrupted run gives.
func TestComponentCancelledRunsLeaveNoDanglingTag(t *testing.T) {
	ctx := t.Context()
	src := seedSource(t)

	// The uninterrupted run into a fresh registry, and how many events it
	// has. Every target is addressed as 127.0.0.1:5055, so that the
	// component versions written into each have the same digests.
	ref := registrytest.New(t)
	var events atomic.Int64
	rs := asFixture(t, src, ref)
	if _, _, err := mirrorTo(ctx, t, src, rs, fixtureHost, "http", transfer.Options{Progress: func(transfer.Event) { events.Add(1) }}); err != nil {
		t.Fatal(err)
	}
	want := closure(ctx, t, rs, storeFor(t, ref).Lister(ref.Host), ref.Host)
	total := int(events.Load())
	if total < 12 {
		t.Fatalf("the run has only %d events", total)
	}
	points := []int{1, 2, 3}
	for i := 1; i <= 9; i++ {
		points = append(points, 3+i*(total-4)/10)
	}
	points = append(points, total-1)
	for _, n := range slices.Compact(points) {
		t.Run(fmt.Sprintf("after_%d_of_%d_events", n, total), func(t *testing.T) {
			dst := registrytest.New(t)
			cctx, cancel := context.WithCancel(ctx)
			defer cancel()
			var seen atomic.Int64
			_, _, err := mirrorTo(cctx, t, src, asFixture(t, src, dst), fixtureHost, "http", transfer.Options{Jobs: 3, Progress: func(transfer.Event) {
				if seen.Add(1) == int64(n) {
					cancel()
				}
			}})
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("the cancelled run returned %v", err)
			}
			ds := asFixture(t, src, dst)
			lister := storeFor(t, dst).Lister(dst.Host)
			partial := closure(ctx, t, ds, lister, dst.Host)
			for k, d := range partial {
				if want[k] != d {
					t.Errorf("after cancel: %s is %s, an uninterrupted run makes it %s", k, d, want[k])
				}
			}
			if _, _, err := mirrorTo(ctx, t, src, asFixture(t, src, dst), fixtureHost, "http", transfer.Options{}); err != nil {
				t.Fatalf("the resumed run: %v", err)
			}
			got := closure(ctx, t, ds, lister, dst.Host)
			if len(got) != 5 {
				t.Errorf("the target holds %d tags, want 5", len(got))
			}
			if !maps.Equal(got, want) {
				t.Errorf("after resuming the target holds\n%v\nan uninterrupted run gives\n%v", got, want)
			}
		})
	}
}

// corrupt flips one byte of blob digest as it is read from the source.
type corrupt struct {
	oci.Reader
	digest string
}

func (c corrupt) Fetch(ctx context.Context, repo string, d v1.Descriptor) (io.ReadCloser, error) {
	rc, err := c.Reader.Fetch(ctx, repo, d)
	if err != nil || d.Digest.String() != c.digest {
		return rc, err
	}
	b, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		return nil, err
	}
	b[len(b)/2] ^= 1
	return io.NopCloser(bytes.NewReader(b)), nil
}

// TestComponentCorruptSourceBlob: a source blob whose bytes do not hash to
// its digest stops the run with an error naming it; nothing is tagged and
// no component version is written.
func TestComponentCorruptSourceBlob(t *testing.T) {
	ctx := t.Context()
	src := seedSource(t)
	for _, c := range []struct{ name, digest, repo string }{
		{"local blob", configBlob, "/ocm/component-descriptors/example.com/podinfo"},
		{"image layer", image635Blob, "/ocm/stefanprodan/podinfo"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dst := registrytest.New(t)
			s := storeFor(t, src, dst)
			from := end{store: s, base: src.Host + "/ocm"}
			to := end{store: s, base: dst.Host + "/mirror", scheme: "http"}
			p, sources, err := plan(ctx, from, s, versions(t, "example.com/app:1.0.0"), to, ocmtransfer.PlanOptions{Recursive: true})
			if err != nil {
				t.Fatal(err)
			}
			defer sources.Close()
			rep, err := ocmtransfer.Run(ctx, p, corrupt{sources, c.digest}, s, transfer.Options{Attempts: 1})
			if !errors.Is(err, oci.ErrDigestMismatch) {
				t.Fatalf("the run returned %v, want a digest mismatch", err)
			}
			if msg := err.Error(); !strings.Contains(msg, c.digest) || !strings.Contains(msg, src.Host+c.repo) {
				t.Errorf("the error does not name the blob %s and %s: %v", c.digest, src.Host+c.repo, err)
			}
			t.Log(err)
			if rep.ComponentsWritten != 0 || rep.TagsSet != 0 {
				t.Errorf("the run wrote %d versions and %d tags", rep.ComponentsWritten, rep.TagsSet)
			}
			ds := storeFor(t, dst)
			if tags := closure(ctx, t, ds, ds.Lister(dst.Host), dst.Host); len(tags) != 0 {
				t.Errorf("the target holds tags after a failed run: %v", tags)
			}
			for _, r := range dst.Requests().Filter("PUT", "") {
				if strings.Contains(r.Path, "/manifests/") {
					t.Errorf("a manifest was written: %s", r.Path)
				}
			}
		})
	}
}

// alias is a Store that serves the repositories of one registry under
// another host name, so that descriptors naming the fixture's registry
// 127.0.0.1:5055 (gone since) reach a test registry, and versions written
// under that name are byte-identical to the fixture's.
type alias struct {
	oci.Store
	from, to string // hosts
}

func (a alias) repo(r string) string {
	if rest, ok := strings.CutPrefix(r, a.from+"/"); ok {
		return a.to + "/" + rest
	}
	return r
}

func (a alias) ref(r oci.Ref) oci.Ref {
	if r.Registry == a.from {
		r.Registry = a.to
	}
	return r
}

func (a alias) Resolve(ctx context.Context, r oci.Ref) (v1.Descriptor, error) {
	return a.Store.Resolve(ctx, a.ref(r))
}
func (a alias) Fetch(ctx context.Context, repo string, d v1.Descriptor) (io.ReadCloser, error) {
	return a.Store.Fetch(ctx, a.repo(repo), d)
}
func (a alias) Exists(ctx context.Context, repo string, d v1.Descriptor) (bool, error) {
	return a.Store.Exists(ctx, a.repo(repo), d)
}
func (a alias) Push(ctx context.Context, repo string, d v1.Descriptor, r io.Reader) error {
	return a.Store.Push(ctx, a.repo(repo), d, r)
}
func (a alias) Tag(ctx context.Context, r oci.Ref, d v1.Descriptor) error {
	return a.Store.Tag(ctx, a.ref(r), d)
}
func (a alias) Tags(ctx context.Context, repo string) ([]string, error) {
	return a.Store.(oci.TagLister).Tags(ctx, a.repo(repo))
}

// serveFixtureImages starts a registry holding the fixture's images where
// the fixtures name them (stefanprodan/podinfo:6.3.5 and :6.3.6, taken from
// ctf-copied's artifact sets), and returns it with a Store that reaches it
// as 127.0.0.1:5055.
func serveFixtureImages(t *testing.T) (*registrytest.Registry, alias) {
	t.Helper()
	imgs := registrytest.New(t)
	s := storeFor(t, imgs)
	from := end{store: openCTF(t, "ctf-copied")}
	to := end{store: s, base: imgs.Host, scheme: "http"}
	if _, _, err := move(t.Context(), from, s, versions(t, "example.com/podinfo:6.3.5", "example.com/podinfo:6.3.6"), to, ocmtransfer.PlanOptions{}, transfer.Options{}); err != nil {
		t.Fatal(err)
	}
	for tag, want := range map[string]string{"6.3.5": image635, "6.3.6": image636} {
		d, err := s.Resolve(t.Context(), mustRef(t, imgs.Host+"/stefanprodan/podinfo:"+tag))
		if err != nil || d.Digest.String() != want {
			t.Fatalf("serving the fixture images: %s is %v (%v), want %s", tag, d.Digest, err, want)
		}
	}
	return imgs, alias{Store: s, from: fixtureHost, to: imgs.Host}
}

func mustRef(t testing.TB, s string) oci.Ref {
	t.Helper()
	r, err := oci.ParseRef(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestComponentFixtureCTFsToRegistry transfers the fixture CTFs into a
// registry and compares with what `ocm transfer ctf` made (registry/).
func TestComponentFixtureCTFsToRegistry(t *testing.T) {
	ctx := t.Context()
	dumps := map[string]string{"example.com/app:1.0.0": "ocm.app-1.0.0", "example.com/podinfo:6.3.5": "ocm.podinfo-6.3.5", "example.com/podinfo:6.3.6": "ocm.podinfo-6.3.6"}

	// By reference, as `ocm transfer ctf ./ctf-dir http://127.0.0.1:5055/ocm`
	// did: the versions are written under the fixture's registry name, so
	// the manifests must be OCM's to the byte (OCM's creator is copied).
	for _, name := range []string{"ctf-dir", "ctf.tar", "ctf.tgz"} {
		t.Run(name+"/by-reference", func(t *testing.T) {
			reg := registrytest.New(t)
			s := alias{Store: storeFor(t, reg), from: fixtureHost, to: reg.Host}
			from := end{store: openCTF(t, name)}
			to := end{store: s, base: fixtureHost + "/ocm", scheme: "http"}
			_, rep, err := move(ctx, from, nil, versions(t, allFixtureVersions...), to, ocmtransfer.PlanOptions{ByReference: true}, transfer.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if rep.ComponentsWritten != 3 {
				t.Errorf("%d versions written, want 3", rep.ComponentsWritten)
			}
			repo := ocireg.New(s, fixtureHost+"/ocm")
			for nv, dump := range dumps {
				n, v, _ := strings.Cut(nv, ":")
				cv, err := repo.Get(ctx, n, v)
				if err != nil {
					t.Fatal(err)
				}
				if want := readShared(t, "registry", dump+".manifest.json"); !bytes.Equal(cv.ManifestBytes, want) {
					t.Errorf("%s: manifest %s, ocm wrote %s:\n%s\n%s", nv, cv.Manifest.Digest, oci.Digest(want), cv.ManifestBytes, want)
				}
				if want := readShared(t, "registry", dump+".component-descriptor.yaml"); !bytes.Equal(cv.Raw, want) {
					t.Errorf("%s: descriptor differs from ocm's:\n%s", nv, cv.Raw)
				}
			}
			rs := storeFor(t, reg)
			closure(ctx, t, rs, rs.Lister(reg.Host), reg.Host)
		})
	}

	// By value: the images of ctf-dir (served where the fixture names them)
	// and the artifact sets of ctf-copied land as the same OCI artifacts
	// with the same tags as in the fixture registry.
	_, images := serveFixtureImages(t)
	for _, name := range []string{"ctf-dir", "ctf.tgz", "ctf-copied"} {
		t.Run(name+"/by-value", func(t *testing.T) {
			reg := registrytest.New(t)
			s := storeFor(t, reg)
			from := end{store: openCTF(t, name)}
			to := end{store: s, base: reg.Host + "/ocm", scheme: "http"}
			if _, _, err := move(ctx, from, images, versions(t, allFixtureVersions...), to, ocmtransfer.PlanOptions{}, transfer.Options{}); err != nil {
				t.Fatal(err)
			}
			tags := closure(ctx, t, s, s.Lister(reg.Host), reg.Host)
			for _, tag := range []string{"6.3.5", "6.3.6"} {
				ref := "HOST/ocm/stefanprodan/podinfo:" + tag
				d, err := s.Resolve(ctx, mustRef(t, reg.Host+"/ocm/stefanprodan/podinfo:"+tag))
				if err != nil {
					t.Fatal(err)
				}
				b, err := oci.FetchBytes(ctx, s, reg.Host+"/ocm/stefanprodan/podinfo", d, oci.MaxManifestBytes)
				if err != nil {
					t.Fatal(err)
				}
				if want := readShared(t, "registry", "mirror.stefanprodan-podinfo-"+tag+".manifest.json"); !bytes.Equal(b, want) || tags[ref] != oci.Digest(want) {
					t.Errorf("%s is %s, the fixture registry holds %s", ref, tags[ref], oci.Digest(want))
				}
			}
			cv, err := ocireg.New(s, reg.Host+"/ocm").Get(ctx, "example.com/podinfo", "6.3.6")
			if err != nil {
				t.Fatal(err)
			}
			acc, err := cv.Descriptor.Resources[2].Access.OCIArtifact()
			if want := "http://" + reg.Host + "/ocm/stefanprodan/podinfo:6.3.6@" + image636; err != nil || acc.ImageReference != want {
				t.Errorf("image access %q (%v), want %q", acc.ImageReference, err, want)
			}
		})
	}
}

// TestComponentResourceChanged: an image whose tag moved after the version
// was made no longer matches the recorded digest; planning refuses it and
// nothing is written.
func TestComponentResourceChanged(t *testing.T) {
	ctx := t.Context()
	imgs, images := serveFixtureImages(t)
	s := storeFor(t, imgs)
	d, err := s.Resolve(ctx, mustRef(t, imgs.Host+"/stefanprodan/podinfo:6.3.6"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Tag(ctx, mustRef(t, imgs.Host+"/stefanprodan/podinfo:6.3.5"), d); err != nil {
		t.Fatal(err)
	}
	dst := registrytest.New(t)
	ds := storeFor(t, dst)
	from := end{store: openCTF(t, "ctf-dir")}
	to := end{store: ds, base: dst.Host + "/air", scheme: "http"}
	_, _, err = move(ctx, from, images, versions(t, "example.com/app:1.0.0"), to, ocmtransfer.PlanOptions{Recursive: true}, transfer.Options{})
	if !errors.Is(err, ocmtransfer.ErrResourceChanged) {
		t.Fatalf("the transfer returned %v, want ErrResourceChanged", err)
	}
	t.Log(err)
	if !strings.Contains(err.Error(), "example.com/podinfo:6.3.5 resource image") {
		t.Errorf("the error does not name the resource: %v", err)
	}
	for _, m := range []string{"PUT", "POST", "PATCH"} {
		if n := dst.Requests().Count(m, ""); n != 0 {
			t.Errorf("%d %s requests reached the target", n, m)
		}
	}
}

// TestComponentExistingVersion: an identical version in the target is
// skipped; a different one under the same name:version is an error unless
// Overwrite.
func TestComponentExistingVersion(t *testing.T) {
	ctx := t.Context()
	dst := registrytest.New(t)
	s := storeFor(t, dst)
	from := end{store: openCTF(t, "ctf-dir")}
	to := end{store: s, base: dst.Host + "/air", scheme: "http"}
	refs := versions(t, "example.com/podinfo:6.3.5")
	byRef := ocmtransfer.PlanOptions{ByReference: true}
	if _, _, err := move(ctx, from, nil, refs, to, byRef, transfer.Options{}); err != nil {
		t.Fatal(err)
	}
	p, rep, err := move(ctx, from, nil, refs, to, byRef, transfer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !p.Components[0].Skip || rep.ComponentsSkipped != 1 || rep.ComponentsWritten != 0 {
		t.Errorf("the identical version was not skipped: plan skip %v, report %d skipped, %d written", p.Components[0].Skip, rep.ComponentsSkipped, rep.ComponentsWritten)
	}

	// Another podinfo 6.3.5 (one more label) in the target.
	repo := ocireg.New(s, dst.Host+"/air")
	cv, err := repo.Get(ctx, "example.com/podinfo", "6.3.5")
	if err != nil {
		t.Fatal(err)
	}
	other, _ := cv.Descriptor.Clone()
	other.Labels = append(other.Labels, component.Label{Name: "example.com/tampered", Value: []byte(`"yes"`)})
	var blobs []ocireg.LocalBlob
	for _, l := range cv.Layers[1:] {
		blobs = append(blobs, ocireg.LocalBlob{Descriptor: l})
	}
	odesc, err := repo.Write(ctx, other, blobs, ocireg.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = plan(ctx, from, nil, refs, to, byRef)
	if !errors.Is(err, ocmtransfer.ErrVersionDiffers) {
		t.Fatalf("planning over a different version returned %v, want ErrVersionDiffers", err)
	}
	if got, _ := repo.Resolve(ctx, "example.com/podinfo", "6.3.5"); got.Digest != odesc.Digest {
		t.Errorf("the refused plan changed the target")
	}
	over := byRef
	over.Overwrite = true
	p, rep, err = move(ctx, from, nil, refs, to, over, transfer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := repo.Resolve(ctx, "example.com/podinfo", "6.3.5"); got.Digest != p.Components[0].Digest || got.Digest != cv.Manifest.Digest || rep.ComponentsWritten != 1 {
		t.Errorf("overwrite left %s, want %s", got.Digest, cv.Manifest.Digest)
	}
}

// TestComponentRegistryToCTFAndBack: a registry release written into a CTF
// directory keeps its images as native OCI artifacts referenced relative to
// the archive, and the archive carries them into a second registry with the
// same digests.
func TestComponentRegistryToCTFAndBack(t *testing.T) {
	ctx := t.Context()
	src := seedSource(t)
	s := storeFor(t, src)
	dir := filepath.Join(t.TempDir(), "ctf")
	a, err := ctf.Create(dir, ctf.FormatDirectory)
	if err != nil {
		t.Fatal(err)
	}
	from := end{store: s, base: src.Host + "/ocm"}
	if _, _, err := move(ctx, from, s, versions(t, "example.com/app:1.0.0", "example.com/podinfo:6.3.6"), end{store: a, intermediate: true},
		ocmtransfer.PlanOptions{Recursive: true}, transfer.Options{}); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}

	b, err := ctf.Open(dir, ctf.ReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.Verify(ctx); err != nil {
		t.Fatal(err)
	}
	tags := closure(ctx, t, b, b, "")
	for ref, want := range map[string]string{"stefanprodan/podinfo:6.3.5": image635, "stefanprodan/podinfo:6.3.6": image636} {
		if tags[ref].String() != want {
			t.Errorf("the CTF holds %s as %s, want %s", ref, tags[ref], want)
		}
	}
	repo := ocireg.New(b, "")
	for _, c := range []struct{ version, image string }{{"6.3.5", image635}, {"6.3.6", image636}} {
		cv, err := repo.Get(ctx, "example.com/podinfo", c.version)
		if err != nil {
			t.Fatal(err)
		}
		acc, err := cv.Descriptor.Resources[2].Access.RelativeOCIReference()
		if want := "stefanprodan/podinfo:" + c.version + "@" + c.image; err != nil || acc.Reference != want {
			t.Errorf("%s: image access %+v (%v), want relativeOciReference %s", c.version, cv.Descriptor.Resources[2].Access, err, want)
		}
		// Only the source registry's context: a CTF appends none.
		if n := len(cv.Descriptor.RepositoryContexts); n != 1 {
			t.Errorf("%s: %d repositoryContexts, want the source's one", c.version, n)
		}
	}

	// The archive into a second registry.
	dst := registrytest.New(t)
	ds := storeFor(t, dst)
	if _, _, err := move(ctx, end{store: b}, ds, versions(t, allFixtureVersions...), end{store: ds, base: dst.Host + "/prod", scheme: "http"},
		ocmtransfer.PlanOptions{}, transfer.Options{}); err != nil {
		t.Fatal(err)
	}
	got := closure(ctx, t, ds, ds.Lister(dst.Host), dst.Host)
	for ref, want := range map[string]string{"HOST/prod/stefanprodan/podinfo:6.3.5": image635, "HOST/prod/stefanprodan/podinfo:6.3.6": image636} {
		if got[ref].String() != want {
			t.Errorf("after the round trip %s is %s, want %s", ref, got[ref], want)
		}
	}
	cv, err := ocireg.New(ds, dst.Host+"/prod").Get(ctx, "example.com/podinfo", "6.3.5")
	if err != nil {
		t.Fatal(err)
	}
	acc, err := cv.Descriptor.Resources[2].Access.OCIArtifact()
	if want := "http://" + dst.Host + "/prod/stefanprodan/podinfo:6.3.5@" + image635; err != nil || acc.ImageReference != want {
		t.Errorf("image access %q (%v), want %q", acc.ImageReference, err, want)
	}
}

// TestComponentSourcesCloseArtifactSets: the artifact sets a plan opens
// (compressed ones are unpacked into temporary files) are released by
// Sources.Close.
func TestComponentSourcesCloseArtifactSets(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	reg := registrytest.New(t)
	s := storeFor(t, reg)
	p, src, err := plan(t.Context(), end{store: openCTF(t, "ctf-copied")}, s, versions(t, allFixtureVersions...),
		end{store: s, base: reg.Host + "/ocm", scheme: "http"}, ocmtransfer.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Artifacts) == 0 {
		t.Fatal("no artifacts planned")
	}
	if ents, _ := os.ReadDir(tmp); len(ents) == 0 {
		t.Fatal("planning unpacked no artifact set (the test proves nothing)")
	}
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(tmp); len(ents) != 0 {
		t.Errorf("Sources.Close left %d temporary files", len(ents))
	}
}

// TestComponentRelativeReferenceInRegistry: an image a registry version
// references relative to its base (OCM's preferRelativeAccess) lands in the
// target under its relative path, not under the source's sub path.
func TestComponentRelativeReferenceInRegistry(t *testing.T) {
	ctx := t.Context()
	src := seedSource(t)
	s := storeFor(t, src)
	repo := ocireg.New(s, src.Host+"/ocm")
	cv, err := repo.Get(ctx, "example.com/podinfo", "6.3.5")
	if err != nil {
		t.Fatal(err)
	}
	d, _ := cv.Descriptor.Clone()
	d.Version = "6.3.5-relative"
	d.Resources[2].Access, err = component.NewAccess(component.RelativeOCIReferenceAccess{Type: component.AccessRelativeOCIReference, Reference: "stefanprodan/podinfo:6.3.5@" + image635})
	if err != nil {
		t.Fatal(err)
	}
	var blobs []ocireg.LocalBlob
	for _, l := range cv.Layers[1:] {
		blobs = append(blobs, ocireg.LocalBlob{Descriptor: l})
	}
	if _, err := repo.Write(ctx, d, blobs, ocireg.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	dst := registrytest.New(t)
	ds := storeFor(t, src, dst)
	if _, _, err := move(ctx, end{store: ds, base: src.Host + "/ocm"}, ds, versions(t, "example.com/podinfo:6.3.5-relative"),
		end{store: ds, base: dst.Host + "/mirror", scheme: "http"}, ocmtransfer.PlanOptions{}, transfer.Options{}); err != nil {
		t.Fatal(err)
	}
	got, err := ocireg.New(ds, dst.Host+"/mirror").Get(ctx, "example.com/podinfo", "6.3.5-relative")
	if err != nil {
		t.Fatal(err)
	}
	acc, err := got.Descriptor.Resources[2].Access.OCIArtifact()
	if want := "http://" + dst.Host + "/mirror/stefanprodan/podinfo:6.3.5@" + image635; err != nil || acc.ImageReference != want {
		t.Errorf("image access %q (%v), want %q", acc.ImageReference, err, want)
	}
	closure(ctx, t, ds, ds.Lister(dst.Host), dst.Host)
}

// manifestFetches is a CTF that counts the manifests fetched from it.
type manifestFetches struct {
	*ctf.Archive
	mu sync.Mutex
	n  map[string]int // repo@digest
}

func (m *manifestFetches) Fetch(ctx context.Context, repo string, d v1.Descriptor) (io.ReadCloser, error) {
	if oci.IsManifest(d.MediaType) {
		m.mu.Lock()
		m.n[repo+"@"+d.Digest.String()]++
		m.mu.Unlock()
	}
	return m.Archive.Fetch(ctx, repo, d)
}

// TestPlanReadsEachManifestOnce: planning from an archive, which answers a
// resolve and a fetch with two reads (it is no oci.ManifestReader), reads
// each manifest once: the bytes read while a resource's image is opened
// are the ones the planner plans.
func TestPlanReadsEachManifestOnce(t *testing.T) {
	src := seedSource(t)
	s := storeFor(t, src)
	archive, _ := intoCTF(t, end{store: s, base: src.Host + "/ocm"}, s, "", ocmtransfer.PlanOptions{}, allFixtureVersions...)
	from := &manifestFetches{Archive: archive, n: map[string]int{}}
	dst, err := ctf.Create(filepath.Join(t.TempDir(), "dst"), ctf.FormatDirectory)
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	p, srcs, err := plan(t.Context(), end{store: from}, nil, versions(t, allFixtureVersions...), end{store: dst, intermediate: true}, ocmtransfer.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer srcs.Close()
	if len(p.Artifacts) == 0 {
		t.Fatal("the plan holds no artifact")
	}
	for _, a := range p.Artifacts {
		if n := from.n[a.Source+"@"+a.Digest.String()]; n != 1 {
			t.Errorf("%s@%s fetched %d times while planning, want once", a.Source, a.Digest, n)
		}
	}
}
