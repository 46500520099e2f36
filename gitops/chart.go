package gitops

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/ferry-oci/ferry/localize"
	"github.com/ferry-oci/ferry/localize/helm"
	"github.com/ferry-oci/ferry/oci"
)

// ChartArtifact is a Helm chart as an OCI artifact, as helm's registry
// client pushes it: config helm.ConfigMediaType (the Chart.yaml metadata as
// JSON), one helm.ChartLayerMediaType layer.
type ChartArtifact struct {
	Manifest, Config, Layer                       []byte
	Descriptor, ConfigDescriptor, LayerDescriptor v1.Descriptor
	Tag                                           string // the chart version, "+" written "_" as helm does
}

// BuildChart packages the chart (helm.Chart.Package) and builds its OCI
// manifest, with the annotations helm writes (title, version,
// description) and no creation time, so the same chart gives the same
// digest.
func BuildChart(c *helm.Chart) (*ChartArtifact, error) {
	layer, err := c.Package()
	if err != nil {
		return nil, err
	}
	cfg, err := c.Metadata()
	if err != nil {
		return nil, err
	}
	a := &ChartArtifact{Config: cfg, Layer: layer, Tag: strings.ReplaceAll(c.Version, "+", "_")}
	a.ConfigDescriptor = oci.DescriptorOf(helm.ConfigMediaType, cfg)
	a.LayerDescriptor = oci.DescriptorOf(helm.ChartLayerMediaType, layer)
	ann := map[string]string{
		"org.opencontainers.image.title":   c.Name,
		"org.opencontainers.image.version": c.Version,
	}
	if d := c.Description(); d != "" {
		ann["org.opencontainers.image.description"] = d
	}
	m := v1.Manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1, Config: a.ConfigDescriptor,
		Layers: []v1.Descriptor{a.LayerDescriptor}, Annotations: ann}
	if a.Manifest, err = json.Marshal(m); err != nil {
		return nil, fmt.Errorf("chart %s: manifest: %w", c.Name, err)
	}
	a.Descriptor = oci.DescriptorOf(types.OCIManifestSchema1, a.Manifest)
	return a, nil
}

// PushChart stores the chart artifact in repo of store: layer and config,
// then the manifest, then the tag (the chart version). It returns the
// reference pushed, with its digest.
func PushChart(ctx context.Context, store oci.Store, repo oci.Ref, a *ChartArtifact) (oci.Ref, error) {
	for _, b := range []struct {
		d v1.Descriptor
		c []byte
	}{{a.LayerDescriptor, a.Layer}, {a.ConfigDescriptor, a.Config}, {a.Descriptor, a.Manifest}} {
		if err := oci.PushBytes(ctx, store, repo.Repo(), b.d, b.c); err != nil {
			return oci.Ref{}, fmt.Errorf("pushing chart to %s: %w", repo.Repo(), err)
		}
	}
	ref, err := oci.ParseRef(repo.Repo() + ":" + a.Tag)
	if err != nil {
		return oci.Ref{}, fmt.Errorf("pushing chart: %w", err)
	}
	if err := store.Tag(ctx, ref, a.Descriptor); err != nil {
		return oci.Ref{}, fmt.Errorf("tagging chart %s: %w", ref, err)
	}
	ref.Digest = a.Descriptor.Digest
	return ref, nil
}

// FetchChart reads the OCI Helm chart whose manifest is d in repo of rd:
// the manifest must have a helm.ChartLayerMediaType (or legacy) layer,
// which is read verified and bounded, then loaded with helm's loader. The
// artifact is returned too (manifest, config and chart layer as they were,
// when the manifest has only that layer), so an unchanged chart can be
// published again with the same digest.
func FetchChart(ctx context.Context, rd oci.Reader, repo string, d v1.Descriptor) (*helm.Chart, *ChartArtifact, error) {
	mb, err := oci.FetchBytes(ctx, rd, repo, d, oci.MaxManifestBytes)
	if err != nil {
		return nil, nil, fmt.Errorf("reading chart %s@%s: %w", repo, d.Digest, err)
	}
	var m v1.Manifest
	if err := json.Unmarshal(mb, &m); err != nil {
		return nil, nil, fmt.Errorf("reading chart %s@%s: %w: %v", repo, d.Digest, helm.ErrNotChart, err)
	}
	for _, l := range m.Layers {
		if l.MediaType != helm.ChartLayerMediaType && l.MediaType != helm.LegacyChartLayerMediaType {
			continue
		}
		if l.Size < 0 || l.Size > helm.MaxChartBytes {
			return nil, nil, fmt.Errorf("reading chart %s@%s: layer of %d bytes: %w (limit %d)", repo, d.Digest, l.Size, oci.ErrTooLarge, helm.MaxChartBytes)
		}
		b, err := oci.FetchBytes(ctx, rd, repo, l, helm.MaxChartBytes)
		if err != nil {
			return nil, nil, fmt.Errorf("reading chart %s@%s: %w", repo, d.Digest, err)
		}
		c, err := helm.LoadArchive(bytes.NewReader(b), localize.Limits{})
		if err != nil {
			return nil, nil, err
		}
		var a *ChartArtifact
		if len(m.Layers) == 1 && m.Config.MediaType == helm.ConfigMediaType && m.Config.Size <= oci.MaxManifestBytes {
			cfg, err := oci.FetchBytes(ctx, rd, repo, m.Config, oci.MaxManifestBytes)
			if err != nil {
				return nil, nil, fmt.Errorf("reading chart %s@%s: config: %w", repo, d.Digest, err)
			}
			a = &ChartArtifact{Manifest: mb, Config: cfg, Layer: b, Descriptor: d, ConfigDescriptor: m.Config, LayerDescriptor: l,
				Tag: strings.ReplaceAll(c.Version, "+", "_")}
		}
		return c, a, nil
	}
	return nil, nil, fmt.Errorf("reading chart %s@%s: %w: no layer of media type %s (config %s)", repo, d.Digest, helm.ErrNotChart, helm.ChartLayerMediaType, m.Config.MediaType)
}

// Reader gives the artifact's manifest, config and layer as an oci.Reader
// (any reference resolves to the manifest), so it can be written where a
// store is read from: an OCM artifact set, a CTF.
func (a *ChartArtifact) Reader() oci.Reader { return chartReader{a} }

type chartReader struct{ a *ChartArtifact }

func (r chartReader) Resolve(context.Context, oci.Ref) (v1.Descriptor, error) {
	return r.a.Descriptor, nil
}

func (r chartReader) Fetch(_ context.Context, _ string, d v1.Descriptor) (io.ReadCloser, error) {
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
