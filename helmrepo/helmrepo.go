// Package helmrepo fetches a chart from a classic (HTTP) Helm chart
// repository, as OCM's helm/v1 access names it, and builds the OCI Helm
// chart the OCM v2 CLI stores for it: config
// application/vnd.cncf.helm.config.v1+json, content layer
// application/vnd.cncf.helm.chart.content.v1.tar+gzip, and the provenance
// layer when the repository has one. Every read is bounded.
package helmrepo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"go.yaml.in/yaml/v3"

	"github.com/ferry-oci/ferry/oci"
)

// Helm's OCI media types.
const (
	MediaTypeConfig     = "application/vnd.cncf.helm.config.v1+json"
	MediaTypeChart      = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
	MediaTypeProvenance = "application/vnd.cncf.helm.chart.provenance.v1.prov"
)

// Bounds of what a repository may send.
const (
	MaxIndexBytes = 32 << 20 // index.yaml
	MaxChartBytes = 64 << 20 // a chart archive
	MaxProvBytes  = 1 << 20  // a provenance file
)

// Errors of this package.
var (
	// ErrNoChart: the repository's index has no such chart or version.
	ErrNoChart = errors.New("chart not in the repository")
	// ErrBadRepository: the repository answered with something that is not
	// a Helm repository index, or a chart that does not match its digest.
	ErrBadRepository = errors.New("not a usable Helm repository")
)

// Access is OCM's helm/v1 access: the repository URL and "name:version"
// (or the name, with the version in Version).
type Access struct {
	HelmRepository string `json:"helmRepository"`
	HelmChart      string `json:"helmChart"`
	Version        string `json:"version,omitempty"`
	// CACert is a PEM certificate to trust for the repository, in addition
	// to the system's.
	CACert string `json:"caCert,omitempty"`
}

// NameVersion splits HelmChart into the chart's name and version.
func (a Access) NameVersion() (name, version string, err error) {
	name, version, ok := strings.Cut(a.HelmChart, ":")
	if !ok {
		name, version = a.HelmChart, a.Version
	}
	if name == "" || version == "" {
		return "", "", fmt.Errorf("helm access %q: want helmChart NAME:VERSION (or a version field): %w", a.HelmChart, ErrNoChart)
	}
	return name, version, nil
}

// Chart is a chart fetched from a repository.
type Chart struct {
	Name, Version string
	Archive       []byte // the chart .tgz
	Provenance    []byte // the .prov file; nil when the repository has none
	URL           string // where the archive came from
}

// index is the part of index.yaml Fetch reads. It is decoded with YAML
// v3 into strings, so that a version (1.10) or a digest of digits only
// keeps its spelling.
type index struct {
	APIVersion string `yaml:"apiVersion"`
	Entries    map[string][]struct {
		Version string   `yaml:"version"`
		URLs    []string `yaml:"urls"`
		Digest  string   `yaml:"digest"`
	} `yaml:"entries"`
}

// Fetch reads the repository's index.yaml, finds the chart version, and
// downloads its archive (checked against the index's digest when it gives
// one) and its provenance file (archive URL + ".prov"; absent is fine).
func Fetch(ctx context.Context, c *http.Client, a Access) (*Chart, error) {
	name, version, err := a.NameVersion()
	if err != nil {
		return nil, err
	}
	base, err := url.Parse(strings.TrimSuffix(a.HelmRepository, "/") + "/")
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") {
		return nil, fmt.Errorf("helm repository %q: want an http(s) URL: %w", a.HelmRepository, ErrBadRepository)
	}
	fail := func(err error) (*Chart, error) {
		return nil, fmt.Errorf("chart %s:%s from %s: %w", name, version, a.HelmRepository, err)
	}
	if a.CACert != "" {
		if c, err = withCA(c, a.CACert); err != nil {
			return fail(err)
		}
	}
	ib, err := get(ctx, c, base.ResolveReference(&url.URL{Path: "index.yaml"}).String(), MaxIndexBytes)
	if err != nil {
		return fail(err)
	}
	var ix index
	if err := yaml.Unmarshal(ib, &ix); err != nil || ix.Entries == nil {
		return fail(fmt.Errorf("index.yaml: %v: %w", err, ErrBadRepository))
	}
	for _, e := range ix.Entries[name] {
		if e.Version != version && strings.TrimPrefix(e.Version, "v") != strings.TrimPrefix(version, "v") {
			continue
		}
		if len(e.URLs) == 0 {
			return fail(fmt.Errorf("index.yaml lists no URL for it: %w", ErrBadRepository))
		}
		u, err := base.Parse(e.URLs[0])
		if err != nil {
			return fail(fmt.Errorf("chart URL %q: %v: %w", e.URLs[0], err, ErrBadRepository))
		}
		ch := &Chart{Name: name, Version: version, URL: u.String()}
		if ch.Archive, err = get(ctx, c, ch.URL, MaxChartBytes); err != nil {
			return fail(err)
		}
		if e.Digest != "" {
			sum := sha256.Sum256(ch.Archive)
			if !strings.EqualFold(strings.TrimPrefix(e.Digest, "sha256:"), hex.EncodeToString(sum[:])) {
				return fail(fmt.Errorf("%s is sha256:%x, the index says %s: %w", ch.URL, sum, e.Digest, oci.ErrDigestMismatch))
			}
		}
		prov, err := get(ctx, c, ch.URL+".prov", MaxProvBytes)
		switch {
		case err == nil:
			ch.Provenance = prov
		case !errors.Is(err, oci.ErrNotFound):
			return fail(err)
		}
		return ch, nil
	}
	return fail(ErrNoChart)
}

// withCA returns a client like c that also trusts the PEM certificates
// in caCert.
func withCA(c *http.Client, caCert string) (*http.Client, error) {
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM([]byte(caCert)) {
		return nil, fmt.Errorf("caCert holds no PEM certificate: %w", ErrBadRepository)
	}
	t, ok := http.DefaultTransport.(*http.Transport)
	if c.Transport != nil {
		t, ok = c.Transport.(*http.Transport)
	}
	if !ok {
		return nil, fmt.Errorf("caCert: the HTTP client's transport cannot take a CA: %w", ErrBadRepository)
	}
	t = t.Clone()
	if t.TLSClientConfig == nil {
		t.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	t.TLSClientConfig.RootCAs = pool
	cc := *c
	cc.Transport = t
	return &cc, nil
}

// get fetches u, at most limit bytes; 404 wraps oci.ErrNotFound.
func get(ctx context.Context, c *http.Client, u string, limit int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetching %s: %w", u, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return nil, fmt.Errorf("fetching %s: %s: %w", u, resp.Status, oci.ErrNotFound)
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("fetching %s: %s: %w", u, resp.Status, ErrBadRepository)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("fetching %s: %w", u, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("fetching %s: more than %d bytes: %w", u, limit, oci.ErrTooLarge)
	}
	return b, nil
}

// Artifact is a chart as an OCI artifact, held in memory; it is an
// oci.Reader serving its manifest and blobs from any repository.
type Artifact struct {
	Manifest v1.Descriptor
	blobs    map[v1.Hash][]byte
}

// OCI builds the OCI Helm chart of ch as the OCM v2 CLI stores a chart: a
// config {"name":…,"version":…}, the archive as the content layer, then the
// provenance layer when there is one. The same chart gives the same digest.
func OCI(ch *Chart) (*Artifact, error) {
	cfg, err := json.Marshal(struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	}{ch.Name, ch.Version})
	if err != nil {
		return nil, err
	}
	a := &Artifact{blobs: map[v1.Hash][]byte{}}
	add := func(mt string, b []byte) v1.Descriptor {
		d := oci.DescriptorOf(types.MediaType(mt), b)
		a.blobs[d.Digest] = b
		return d
	}
	m := v1.Manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1, Config: add(MediaTypeConfig, cfg)}
	m.Layers = append(m.Layers, add(MediaTypeChart, ch.Archive))
	if ch.Provenance != nil {
		m.Layers = append(m.Layers, add(MediaTypeProvenance, ch.Provenance))
	}
	mb, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	a.Manifest = add(string(types.OCIManifestSchema1), mb)
	return a, nil
}

// Resolve returns the manifest for a reference by its digest.
func (a *Artifact) Resolve(_ context.Context, ref oci.Ref) (v1.Descriptor, error) {
	if ref.Digest != a.Manifest.Digest {
		return v1.Descriptor{}, fmt.Errorf("%s: %w", ref, oci.ErrNotFound)
	}
	return a.Manifest, nil
}

// Fetch serves the manifest and its blobs.
func (a *Artifact) Fetch(_ context.Context, repo string, d v1.Descriptor) (io.ReadCloser, error) {
	b, ok := a.blobs[d.Digest]
	if !ok {
		return nil, fmt.Errorf("%s@%s: %w", repo, d.Digest, oci.ErrNotFound)
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}

// Close releases nothing; it lets an Artifact be owned as an io.Closer.
func (a *Artifact) Close() error { return nil }
