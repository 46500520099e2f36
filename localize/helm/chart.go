package helm

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"helm.sh/helm/v4/pkg/chart/loader/archive"
	chartv2 "helm.sh/helm/v4/pkg/chart/v2"
	c2load "helm.sh/helm/v4/pkg/chart/v2/loader"

	"github.com/ferry-oci/ferry/localize"
	"github.com/ferry-oci/ferry/oci"
)

// Helm's OCI media types (helm.sh/helm/v4/pkg/registry).
const (
	ConfigMediaType     = "application/vnd.cncf.helm.config.v1+json"
	ChartLayerMediaType = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
	ProvLayerMediaType  = "application/vnd.cncf.helm.chart.provenance.v1.prov"
	// LegacyChartLayerMediaType is the layer type of charts pushed by Helm
	// before 3.8; helm still reads it.
	LegacyChartLayerMediaType = "application/tar+gzip"
)

// ErrNotChart: the content is not a Helm chart (no Chart.yaml, an OCI
// artifact without a chart layer, a chart helm's loader refuses).
var ErrNotChart = errors.New("not a Helm chart")

// Chart is a Helm chart: its files by path below the chart's root
// ("Chart.yaml", "values.yaml", "templates/deployment.yaml",
// "charts/redis-18.0.0.tgz"), as they were in the archive or directory.
// Rendering loads them with helm's own loader each time, so the bytes are
// the one truth about the chart.
type Chart struct {
	Name    string
	Version string
	Files   localize.Files
	meta    *chartv2.Metadata
	archive []byte // the archive the chart was read from, published as is
	// oci is the OCI artifact the chart was read from (Fetch), published as
	// is while the chart is unchanged, so its digest and signatures stay.
	oci *Artifact
}

// LoadArchive reads a chart .tgz (as `helm package` writes it: one top
// directory named after the chart). The archive is untrusted and read with
// localize.ReadArchive's checks and limits.
func LoadArchive(r io.Reader, l localize.Limits) (*Chart, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxChartBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading chart archive: %w", err)
	}
	if len(b) > MaxChartBytes {
		return nil, fmt.Errorf("reading chart archive: more than %d bytes: %w", MaxChartBytes, oci.ErrTooLarge)
	}
	files, err := localize.ReadArchive(bytes.NewReader(b), l)
	if err != nil {
		return nil, fmt.Errorf("reading chart archive: %w", err)
	}
	c, err := LoadFiles(files)
	if err != nil {
		return nil, err
	}
	c.archive = b
	return c, nil
}

// LoadFiles takes a chart from a tree: either the chart's root (Chart.yaml
// at the top) or one directory holding it, as in a chart archive.
func LoadFiles(files localize.Files) (*Chart, error) {
	root := ""
	if _, ok := files["Chart.yaml"]; !ok {
		for p := range files {
			dir, rest, ok := strings.Cut(p, "/")
			if ok && rest == "Chart.yaml" {
				if root != "" && root != dir {
					return nil, fmt.Errorf("%w: Chart.yaml in both %s/ and %s/", ErrNotChart, root, dir)
				}
				root = dir
			}
		}
		if root == "" {
			return nil, fmt.Errorf("%w: no Chart.yaml at the top or one directory below", ErrNotChart)
		}
	}
	c := &Chart{Files: localize.Files{}}
	for p, b := range files {
		if root != "" {
			rest, ok := strings.CutPrefix(p, root+"/")
			if !ok {
				return nil, fmt.Errorf("%w: %s is outside the chart directory %s/", ErrNotChart, p, root)
			}
			p = rest
		}
		c.Files[p] = b
	}
	ch, err := c.load()
	if err != nil {
		return nil, err
	}
	c.Name, c.Version, c.meta = ch.Metadata.Name, ch.Metadata.Version, ch.Metadata
	return c, nil
}

// load gives the files to helm's loader (chart API v1 and v2).
func (c *Chart) load() (*chartv2.Chart, error) {
	var bf []*archive.BufferedFile
	for _, p := range c.Files.Names() {
		bf = append(bf, &archive.BufferedFile{Name: p, ModTime: mtime, Data: c.Files[p]})
	}
	ch, err := c2load.LoadFiles(bf)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotChart, err)
	}
	if err := ch.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotChart, err)
	}
	return ch, nil
}

// mtime is every entry's time in a packaged chart, so the same files give
// the same digest.
var mtime = time.Unix(0, 0).UTC()

// Package writes the chart as `helm package` lays it out: a gzip tar with
// one top directory named after the chart. Entries are sorted, with the
// epoch as their time, so the same files give the same bytes.
//
// A chart read with LoadArchive and not changed since is the archive it was
// read from, byte for byte (so its digest and any signature stay valid).
func (c *Chart) Package() ([]byte, error) {
	if c.archive != nil {
		return c.archive, nil
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, p := range c.Files.Names() {
		b := c.Files[p]
		h := &tar.Header{Name: path.Join(c.Name, p), Mode: 0o644, Size: int64(len(b)), ModTime: mtime, Typeflag: tar.TypeReg, Format: tar.FormatPAX}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("packaging chart %s: %w", c.Name, err)
		}
		if _, err := tw.Write(b); err != nil {
			return nil, fmt.Errorf("packaging chart %s: %w", c.Name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("packaging chart %s: %w", c.Name, err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("packaging chart %s: %w", c.Name, err)
	}
	return buf.Bytes(), nil
}

// Artifact is a chart as an OCI artifact, as helm's registry client pushes
// it: config ConfigMediaType (the Chart.yaml metadata as JSON), one
// ChartLayerMediaType layer.
type Artifact struct {
	Manifest, Config, Layer                       []byte
	Descriptor, ConfigDescriptor, LayerDescriptor v1.Descriptor
	Tag                                           string // the chart version, "+" written "_" as helm does
}

// Artifact packages the chart and builds its OCI manifest, with the
// annotations helm writes (title, version, description) and no creation
// time, so the same chart gives the same digest.
//
// A chart read with Fetch and not changed since is the artifact it was
// read from (manifest, config and chart layer as they were; other layers,
// such as a provenance file, are left out only if the manifest had none).
func (c *Chart) Artifact() (*Artifact, error) {
	if c.oci != nil {
		return c.oci, nil
	}
	layer, err := c.Package()
	if err != nil {
		return nil, err
	}
	cfg, err := json.Marshal(c.meta)
	if err != nil {
		return nil, fmt.Errorf("chart %s: config: %w", c.Name, err)
	}
	a := &Artifact{Config: cfg, Layer: layer, Tag: strings.ReplaceAll(c.Version, "+", "_")}
	a.ConfigDescriptor = oci.DescriptorOf(ConfigMediaType, cfg)
	a.LayerDescriptor = oci.DescriptorOf(ChartLayerMediaType, layer)
	ann := map[string]string{
		"org.opencontainers.image.title":   c.Name,
		"org.opencontainers.image.version": c.Version,
	}
	if c.meta.Description != "" {
		ann["org.opencontainers.image.description"] = c.meta.Description
	}
	m := v1.Manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1, Config: a.ConfigDescriptor,
		Layers: []v1.Descriptor{a.LayerDescriptor}, Annotations: ann}
	if a.Manifest, err = json.Marshal(m); err != nil {
		return nil, fmt.Errorf("chart %s: manifest: %w", c.Name, err)
	}
	a.Descriptor = oci.DescriptorOf(types.OCIManifestSchema1, a.Manifest)
	return a, nil
}

// Push stores the chart as an OCI Helm chart in repo of store: layer and
// config, then the manifest, then the tag (the chart version). It returns
// the reference pushed, with its digest.
func Push(ctx context.Context, store oci.Store, repo oci.Ref, c *Chart) (oci.Ref, *Artifact, error) {
	a, err := c.Artifact()
	if err != nil {
		return oci.Ref{}, nil, err
	}
	for _, b := range []struct {
		d v1.Descriptor
		c []byte
	}{{a.LayerDescriptor, a.Layer}, {a.ConfigDescriptor, a.Config}, {a.Descriptor, a.Manifest}} {
		if err := oci.PushBytes(ctx, store, repo.Repo(), b.d, b.c); err != nil {
			return oci.Ref{}, nil, fmt.Errorf("pushing chart %s to %s: %w", c.Name, repo.Repo(), err)
		}
	}
	ref, err := oci.ParseRef(repo.Repo() + ":" + a.Tag)
	if err != nil {
		return oci.Ref{}, nil, fmt.Errorf("pushing chart %s: %w", c.Name, err)
	}
	if err := store.Tag(ctx, ref, a.Descriptor); err != nil {
		return oci.Ref{}, nil, fmt.Errorf("tagging chart %s: %w", ref, err)
	}
	ref.Digest = a.Descriptor.Digest
	return ref, a, nil
}

// MaxChartBytes bounds a chart layer read from a store.
const MaxChartBytes = 64 << 20

// Fetch reads the OCI Helm chart whose manifest is d in repo of rd: the
// manifest must have a ChartLayerMediaType (or legacy) layer, which is read
// verified and bounded, then loaded.
func Fetch(ctx context.Context, rd oci.Reader, repo string, d v1.Descriptor) (*Chart, error) {
	mb, err := oci.FetchBytes(ctx, rd, repo, d, oci.MaxManifestBytes)
	if err != nil {
		return nil, fmt.Errorf("reading chart %s@%s: %w", repo, d.Digest, err)
	}
	var m v1.Manifest
	if err := json.Unmarshal(mb, &m); err != nil {
		return nil, fmt.Errorf("reading chart %s@%s: %w: %v", repo, d.Digest, ErrNotChart, err)
	}
	for _, l := range m.Layers {
		if l.MediaType != ChartLayerMediaType && l.MediaType != LegacyChartLayerMediaType {
			continue
		}
		if l.Size < 0 || l.Size > MaxChartBytes {
			return nil, fmt.Errorf("reading chart %s@%s: layer of %d bytes: %w (limit %d)", repo, d.Digest, l.Size, oci.ErrTooLarge, MaxChartBytes)
		}
		b, err := oci.FetchBytes(ctx, rd, repo, l, MaxChartBytes)
		if err != nil {
			return nil, fmt.Errorf("reading chart %s@%s: %w", repo, d.Digest, err)
		}
		c, err := LoadArchive(bytes.NewReader(b), localize.Limits{})
		if err != nil {
			return nil, err
		}
		if len(m.Layers) == 1 && m.Config.MediaType == ConfigMediaType && m.Config.Size <= oci.MaxManifestBytes {
			cfg, err := oci.FetchBytes(ctx, rd, repo, m.Config, oci.MaxManifestBytes)
			if err != nil {
				return nil, fmt.Errorf("reading chart %s@%s: config: %w", repo, d.Digest, err)
			}
			c.oci = &Artifact{Manifest: mb, Config: cfg, Layer: b, Descriptor: d, ConfigDescriptor: m.Config, LayerDescriptor: l,
				Tag: strings.ReplaceAll(c.Version, "+", "_")}
		}
		return c, nil
	}
	return nil, fmt.Errorf("reading chart %s@%s: %w: no layer of media type %s (config %s)", repo, d.Digest, ErrNotChart, ChartLayerMediaType, m.Config.MediaType)
}

// IsChartArtifact reports whether an OCI manifest's config is Helm's.
func IsChartArtifact(configMediaType string) bool { return configMediaType == ConfigMediaType }

// LoadDir reads a chart directory with helm's own directory loader, which
// applies the chart's .helmignore, then takes its files as LoadFiles does.
func LoadDir(dir string) (*Chart, error) {
	ch, err := c2load.LoadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrNotChart, dir, err)
	}
	files := localize.Files{}
	for _, f := range ch.Raw {
		files[f.Name] = f.Data
	}
	return LoadFiles(files)
}

// Reader gives the artifact's manifest, config and layer as an oci.Reader
// (any reference resolves to the manifest), so it can be written where a
// store is read from: an OCM artifact set, a CTF.
func (a *Artifact) Reader() oci.Reader { return artifactReader{a} }

type artifactReader struct{ a *Artifact }

func (r artifactReader) Resolve(context.Context, oci.Ref) (v1.Descriptor, error) {
	return r.a.Descriptor, nil
}

func (r artifactReader) Fetch(_ context.Context, _ string, d v1.Descriptor) (io.ReadCloser, error) {
	for _, x := range []struct {
		d v1.Descriptor
		b []byte
	}{{r.a.Descriptor, r.a.Manifest}, {r.a.ConfigDescriptor, r.a.Config}, {r.a.LayerDescriptor, r.a.Layer}} {
		if x.d.Digest == d.Digest {
			return io.NopCloser(bytes.NewReader(x.b)), nil
		}
	}
	return nil, fmt.Errorf("chart artifact: %s: %w", d.Digest, oci.ErrNotFound)
}
