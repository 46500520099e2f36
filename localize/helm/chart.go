package helm

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"time"

	"helm.sh/helm/v4/pkg/chart/loader/archive"
	chartv2 "helm.sh/helm/v4/pkg/chart/v2"
	c2load "helm.sh/helm/v4/pkg/chart/v2/loader"

	"github.com/ferry-oci/ferry/localize"
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

// ErrTooLarge: a chart archive is larger than MaxChartBytes.
var ErrTooLarge = errors.New("chart too large")

// MaxChartBytes bounds a chart archive.
const MaxChartBytes = 64 << 20

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
		return nil, fmt.Errorf("reading chart archive: more than %d bytes: %w", MaxChartBytes, ErrTooLarge)
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

// Metadata returns the chart's Chart.yaml as helm reads it, as JSON: the
// config of an OCI Helm chart.
func (c *Chart) Metadata() ([]byte, error) {
	b, err := json.Marshal(c.meta)
	if err != nil {
		return nil, fmt.Errorf("chart %s: metadata: %w", c.Name, err)
	}
	return b, nil
}

// Description is the chart's description.
func (c *Chart) Description() string { return c.meta.Description }

// Unchanged reports whether the chart is the archive it was read from
// (LoadArchive), byte for byte.
func (c *Chart) Unchanged() bool { return c.archive != nil }
