package helm

import (
	"context"
	"fmt"
	"io"

	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/gitops"
	"github.com/ferry-oci/ferry/localize"
	"github.com/ferry-oci/ferry/oci"
	"github.com/ferry-oci/ferry/resource"
)

// ResourceType is OCM's resource type of a Helm chart.
const ResourceType = "helmChart"

// IsChart reports whether the resource is a Helm chart.
func IsChart(r *component.Resource) bool { return r.Type == ResourceType }

// Location is where a chart can be pulled from by a cluster: an OCI Helm
// chart in a registry. Repo is empty when the chart is only inside the
// component version (a chart archive as a local blob).
type Location struct {
	Ref oci.Ref // repository, tag (the version) and digest
}

// Open reads the chart of a helmChart resource: an OCI Helm chart
// (ociArtifact or relativeOciReference access, or a local blob holding its
// artifact set) or a chart archive (a local blob .tgz). For a chart in a
// registry it returns the Location too.
func Open(ctx context.Context, src *resource.Content, r *component.Resource) (*Chart, *Location, error) {
	if resource.IsArtifact(r) {
		a, err := src.Artifact(ctx, r)
		if err != nil {
			return nil, nil, err
		}
		defer a.Close()
		c, err := Fetch(ctx, a.Reader, a.Ref.Repo(), a.Descriptor)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", src.Name(r), err)
		}
		var loc *Location
		if r.Access.Kind() != component.AccessLocalBlob {
			ref := a.Ref
			ref.Digest = a.Descriptor.Digest
			loc = &Location{Ref: ref}
		}
		return c, loc, nil
	}
	rc, _, err := src.Open(ctx, r)
	if err != nil {
		return nil, nil, err
	}
	defer rc.Close()
	c, err := LoadArchive(io.LimitReader(rc, MaxChartBytes+1), localize.Limits{})
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", src.Name(r), err)
	}
	return c, nil, nil
}

// DeployFiles are the files of the GitOps artifact that deploys a
// localized chart from chart (its repository, tag and digest): values.yaml
// (the values the result deploys with, when there are any) and the Flux,
// Argo CD and Config Sync objects of gitops.HelmManifests.
func DeployFiles(res *Result, chart oci.Ref, insecure bool) (localize.Files, error) {
	vals, err := ParseValues(res.Values)
	if err != nil {
		return nil, err
	}
	d := gitops.HelmDeployment{Chart: chart.Repo(), Version: res.Version, Values: vals, Insecure: insecure}
	if chart.Digest != (oci.Ref{}).Digest {
		d.Digest = chart.Digest.String()
	}
	files, err := gitops.HelmManifests(d)
	if err != nil {
		return nil, err
	}
	if len(res.Values) > 0 {
		files["values.yaml"] = res.Values
	}
	return files, nil
}
