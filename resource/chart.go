package resource

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/oci"
)

// Helm's OCI media types (a chart pushed with `helm push`, or stored by the
// OCM v2 CLI for a helm input).
const (
	MediaTypeHelmConfig     = "application/vnd.cncf.helm.config.v1+json"
	MediaTypeHelmChart      = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
	MediaTypeHelmProvenance = "application/vnd.cncf.helm.chart.provenance.v1.prov"
)

// ErrNotChart: the resource's content is not a Helm chart ferry can read.
var ErrNotChart = errors.New("not a Helm chart")

// MaxChartBytes bounds a chart archive read by Chart.
const MaxChartBytes = 64 << 20

// Chart streams the chart archive (.tgz, as `helm package` writes it) of a
// Helm chart resource, verified against its digest while it streams:
//   - a chart stored as an OCI artifact (Helm's media types: config
//     MediaTypeHelmConfig, content layer MediaTypeHelmChart), wherever the
//     access puts it: in the version's index (OCM v2), in an artifact set,
//     in a registry or relative to the version's store;
//   - a chart stored as a blob (a local blob or an OCI blob holding the
//     .tgz), as it is.
//
// The descriptor returned is the content layer's (or the blob's). An OCI
// artifact that is not a Helm chart fails with ErrNotChart.
func (s *Content) Chart(ctx context.Context, r *component.Resource) (io.ReadCloser, v1.Descriptor, error) {
	if !IsArtifact(r) {
		return s.Open(ctx, r)
	}
	a, err := s.Artifact(ctx, r)
	if err != nil {
		return nil, v1.Descriptor{}, err
	}
	layer, err := chartLayer(ctx, a)
	if err != nil {
		a.Close()
		return nil, v1.Descriptor{}, fmt.Errorf("%s: %w", s.Name(r), err)
	}
	rc, err := a.Reader.Fetch(ctx, a.Ref.Repo(), layer)
	if err != nil {
		a.Close()
		return nil, v1.Descriptor{}, fmt.Errorf("%s: chart layer %s: %w", s.Name(r), layer.Digest, err)
	}
	vr, err := oci.VerifyReader(rc, layer)
	if err != nil {
		rc.Close()
		a.Close()
		return nil, v1.Descriptor{}, err
	}
	return readCloser{vr, closers{rc, a}}, layer, nil
}

// chartLayer reads the manifest of a and returns its chart content layer.
func chartLayer(ctx context.Context, a *Artifact) (v1.Descriptor, error) {
	if !oci.IsManifest(a.Descriptor.MediaType) || oci.IsIndex(a.Descriptor.MediaType) {
		return v1.Descriptor{}, fmt.Errorf("%s is a %s, not a chart manifest: %w", a.Descriptor.Digest, a.Descriptor.MediaType, ErrNotChart)
	}
	b, err := oci.FetchBytes(ctx, a.Reader, a.Ref.Repo(), a.Descriptor, oci.MaxManifestBytes)
	if err != nil {
		return v1.Descriptor{}, fmt.Errorf("reading manifest %s: %w", a.Descriptor.Digest, err)
	}
	var m v1.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return v1.Descriptor{}, fmt.Errorf("decoding manifest %s: %v: %w", a.Descriptor.Digest, err, ErrNotChart)
	}
	if m.Config.MediaType != MediaTypeHelmConfig {
		return v1.Descriptor{}, fmt.Errorf("manifest %s has config %q, not %s: %w", a.Descriptor.Digest, m.Config.MediaType, MediaTypeHelmConfig, ErrNotChart)
	}
	for _, l := range m.Layers {
		if l.MediaType == MediaTypeHelmChart {
			if l.Size > MaxChartBytes {
				return v1.Descriptor{}, fmt.Errorf("chart layer %s has %d bytes, more than %d: %w", l.Digest, l.Size, MaxChartBytes, oci.ErrTooLarge)
			}
			return l, nil
		}
	}
	return v1.Descriptor{}, fmt.Errorf("manifest %s has no %s layer: %w", a.Descriptor.Digest, MediaTypeHelmChart, ErrNotChart)
}
