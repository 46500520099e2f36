package release

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/component/ocireg"
	"github.com/ferry-oci/ferry/internal/human"
	"github.com/ferry-oci/ferry/repository"
)

// readVersions opens the repository of spec (REPO[//NAME[:VERSION]]) with
// o and reads the versions it names; the caller closes the repository. A
// malformed spec is a *UsageError.
func readVersions(ctx context.Context, spec string, o repository.Options) (*repository.Repository, []*ocireg.Version, error) {
	refs, err := component.ParseSources([]string{spec})
	if err != nil {
		return nil, nil, &UsageError{err}
	}
	repo, err := repository.OpenRepo(ctx, refs[0].Repo, o)
	if err != nil {
		return nil, nil, err
	}
	versions, err := repo.Read(ctx, refs[0])
	if err != nil {
		repo.Close()
		return nil, nil, err
	}
	return repo, versions, nil
}

// VersionList is the descriptors of component versions in a repository.
type VersionList struct {
	Descriptors []*component.Descriptor
	Repository  string // where they are, for people
}

// ListVersions reads the versions spec (REPO[//NAME[:VERSION]]) names from
// the repository opened with o, each converted to scheme when one is given
// and it is not the version's own. A malformed spec is a *UsageError.
func ListVersions(ctx context.Context, spec string, scheme component.Scheme, o repository.Options) (*VersionList, error) {
	repo, versions, err := readVersions(ctx, spec, o)
	if err != nil {
		return nil, err
	}
	defer repo.Close()
	l := &VersionList{Descriptors: make([]*component.Descriptor, 0, len(versions)), Repository: repo.String()}
	for _, cv := range versions {
		d := cv.Descriptor
		if scheme != "" && scheme != d.SchemeOrDefault() {
			var err error
			if d, err = component.Convert(d, scheme); err != nil {
				return nil, fmt.Errorf("converting %s:%s to %s: %w", d.Name, d.Version, scheme, err)
			}
		}
		l.Descriptors = append(l.Descriptors, d)
	}
	return l, nil
}

// WriteTable writes one row per version: component, version, provider and
// repository.
func (l *VersionList) WriteTable(w io.Writer) error {
	t := human.NewTable(w)
	t.Row("COMPONENT", "VERSION", "PROVIDER", "REPOSITORY")
	for _, d := range l.Descriptors {
		t.Row(d.Name, d.Version, d.Provider.Name, l.Repository)
	}
	return t.Flush()
}

// Write writes the list as format says: "yaml" or "json" as OCM encodes
// the descriptors (component.EncodeList), else as WriteTable does.
func (l *VersionList) Write(w io.Writer, format string) error {
	if format != "yaml" && format != "json" {
		return l.WriteTable(w)
	}
	b, err := component.EncodeList(l.Descriptors, format)
	if err == nil {
		_, err = w.Write(b)
	}
	return err
}

// ResourceRow is one resource of a component version, as a listing shows
// it.
type ResourceRow struct {
	Component     string                `json:"component"` // NAME:VERSION
	Name          string                `json:"name"`
	Version       string                `json:"version"`
	ExtraIdentity component.Identity    `json:"extraIdentity,omitempty"`
	Type          string                `json:"type"`
	Relation      string                `json:"relation"`
	Access        component.Access      `json:"access"`
	Digest        *component.DigestSpec `json:"digest,omitempty"`
}

// ResourceList is the resources of component versions and, when asked
// for, the images each helmChart resource among them needs (ChartImages).
type ResourceList struct {
	Resources []ResourceRow `json:"resources"`
	Charts    []ChartNeeds  `json:"charts"`
	// WithCharts says the charts were asked for; without it the list
	// encodes as the rows alone.
	WithCharts bool `json:"-"`
}

// ListResources lists the resources of the versions spec names (see
// ListVersions) and, with withCharts, renders their charts for the images
// they need.
func ListResources(ctx context.Context, spec string, withCharts bool, o repository.Options) (*ResourceList, error) {
	repo, versions, err := readVersions(ctx, spec, o)
	if err != nil {
		return nil, err
	}
	defer repo.Close()
	l := &ResourceList{WithCharts: withCharts}
	for _, cv := range versions {
		d := cv.Descriptor
		for _, r := range d.Resources {
			l.Resources = append(l.Resources, ResourceRow{Component: d.Name + ":" + d.Version, Name: r.Name, Version: r.Version,
				ExtraIdentity: r.ExtraIdentity, Type: r.Type, Relation: r.Relation, Access: r.Access, Digest: r.Digest})
		}
		if withCharts {
			cs, err := ChartImages(ctx, repo, cv)
			if err != nil {
				return nil, err
			}
			l.Charts = append(l.Charts, cs...)
		}
	}
	return l, nil
}

// MarshalJSON encodes the rows alone, or with WithCharts the rows and the
// charts.
func (l *ResourceList) MarshalJSON() ([]byte, error) {
	if !l.WithCharts {
		return json.Marshal(l.Resources)
	}
	type plain ResourceList
	return json.Marshal((*plain)(l))
}

// WriteTable writes the columns 'ocm get resources -o wide' prints, with
// the digest, and with WithCharts a table of the images each chart needs.
func (l *ResourceList) WriteTable(w io.Writer) error {
	t := human.NewTable(w)
	t.Row("NAME", "VERSION", "IDENTITY", "TYPE", "RELATION", "ACCESSTYPE", "ACCESSSPEC", "DIGEST")
	for _, r := range l.Resources {
		id, dg := "", ""
		if len(r.ExtraIdentity) > 0 {
			id = r.ExtraIdentity.String()
		}
		if r.Digest != nil {
			dg = r.Digest.String()
		}
		spec, _ := json.Marshal(r.Access.Fields)
		t.Row(r.Name, r.Version, id, r.Type, r.Relation, r.Access.Type, string(spec), dg)
	}
	if l.WithCharts {
		writeChartNeeds(t, l.Charts)
	}
	return t.Flush()
}

// writeChartNeeds adds the table of the images charts need.
func writeChartNeeds(t *human.Table, cs []ChartNeeds) {
	t.Row("")
	t.Row("CHART", "IMAGE", "RESOURCE", "RENDERED AT")
	for _, c := range cs {
		for _, n := range c.Images {
			res := "yes"
			if !n.Resource {
				res = "MISSING"
			}
			var at []string
			for _, u := range n.Uses {
				at = append(at, u.File+" "+u.Path)
			}
			t.Row(c.Chart, n.Image, res, strings.Join(at, ", "))
		}
	}
}
