package ocmtransfer

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/component/ocireg"
	"github.com/ferry-oci/ferry/helmrepo"
	"github.com/ferry-oci/ferry/oci"
	"github.com/ferry-oci/ferry/resource"
)

// OCM v2 layouts in component transfers (ADR 0013 of the OCM v2 CLI): a
// version stored as an index whose further entries are OCI-native local
// blobs (LocalBlob/v1 with a manifest media type, localReference = the
// manifest digest), and the choice of how copied images are stored.

// Upload modes of PlanOptions.UploadAs, named as OCM names them
// (`ocm transfer --upload-as`).
const (
	// UploadAsOCIArtifact stores an image copied by value as an artifact of
	// its own repository in the target (ociArtifact access, or
	// relativeOciReference in a CTF). It is the default, and what both OCM
	// CLIs read.
	UploadAsOCIArtifact = "ociArtifact"
	// UploadAsLocalBlob stores an image copied by value inside the
	// component version, as the OCM v2 CLI does with --copy-resources: an
	// entry of the version's index, with a LocalBlob/v1 access whose
	// mediaType is the manifest's and whose localReference is its digest.
	// The OCM v1 CLI cannot read such versions.
	UploadAsLocalBlob = "localBlob"
)

// ParseUploadAs checks an upload mode ("" is UploadAsOCIArtifact).
func ParseUploadAs(s string) (string, error) {
	switch s {
	case "", UploadAsOCIArtifact:
		return UploadAsOCIArtifact, nil
	case UploadAsLocalBlob:
		return UploadAsLocalBlob, nil
	}
	return "", fmt.Errorf("upload mode %q: want %s or %s", s, UploadAsLocalBlob, UploadAsOCIArtifact)
}

// indexArtifact plans the copy of an OCI-native local blob into the target
// version's repository (untagged, with everything below it); the access
// stays as it is, and the manifest becomes an entry of the target
// version's index.
func (cp *componentPlanner) indexArtifact(ctx context.Context, rs *resource.Content, r *component.Resource, ch ResourceChange, targetCV string) (ResourceChange, []v1.Descriptor, error) {
	a, err := rs.Artifact(ctx, r)
	if err != nil {
		return ch, nil, err
	}
	defer a.Close()
	d := v1.Descriptor{MediaType: a.Descriptor.MediaType, Digest: a.Descriptor.Digest, Size: a.Descriptor.Size}
	if len(cp.o.Artifacts.Platforms) > 0 && oci.IsIndex(d.MediaType) {
		// The version's index names the whole index by digest; a filtered
		// copy would leave it naming what is not there.
		return ch, nil, fmt.Errorf("%s: the multi-platform image %s is stored in the component version's OCI index, which names it whole: platform filtering does not apply to it (leave out --platform): %w",
			rs.Name(r), d.Digest, oci.ErrUnsupported)
	}
	if err := cp.pl.AddResolved(ctx, a.Ref.Repo(), d, targetCV, nil, rs.Name(r)); err != nil {
		return ch, nil, fmt.Errorf("%s: %w", rs.Name(r), err)
	}
	if ch.Checked, err = resource.CheckArtifactDigest(r, d.Digest); err != nil {
		return ch, nil, fmt.Errorf("%s: %w", rs.Name(r), err)
	}
	ch.How, ch.Digest = "local", d.Digest
	return ch, []v1.Descriptor{d}, nil
}

// uploadLocal turns the access of an image copied by value into the
// target version's repository into an OCI-native local blob
// (UploadAsLocalBlob) and returns the index entry it needs.
func uploadLocal(r *component.Resource, d v1.Descriptor, hint string) (component.Access, v1.Descriptor, error) {
	acc, err := component.NewAccess(component.LocalBlobAccess{Type: "LocalBlob/v1", LocalReference: d.Digest.String(), MediaType: string(d.MediaType), ReferenceName: hint})
	if err != nil {
		return component.Access{}, v1.Descriptor{}, fmt.Errorf("resource %s: %w", r.Name, err)
	}
	return acc, v1.Descriptor{MediaType: d.MediaType, Digest: d.Digest, Size: d.Size}, nil
}

// splitArtifacts separates the index entries (manifests and indexes) from
// the local-blob layers a version's resources contributed.
func splitArtifacts(descs []v1.Descriptor) (blobs, artifacts []v1.Descriptor) {
	for _, d := range descs {
		if oci.IsManifest(d.MediaType) {
			artifacts = append(artifacts, d)
		} else {
			blobs = append(blobs, d)
		}
	}
	return blobs, artifacts
}

// carryStored reports whether the version can be written as it was read
// (every digest kept): it is stored the way the OCM v2 CLI stores one, and
// the transfer left its descriptor as it was.
func carryStored(cv *ocireg.Version, d *component.Descriptor) (bool, error) {
	if !cv.IsV2() {
		return false, nil
	}
	a, err := component.EncodeJSON(cv.Descriptor, "")
	if err != nil {
		return false, err
	}
	b, err := component.EncodeJSON(d, "")
	if err != nil {
		return false, err
	}
	return string(a) == string(b), nil
}

// ErrUnsupportedAccess: a resource's access type names content ferry
// cannot fetch (git, s3, npm, …), and the transfer was asked to copy it.
var ErrUnsupportedAccess = errors.New("access type ferry cannot fetch")

// unsupportedAccess plans a resource whose access ferry does not read:
// a helm/v1 chart is fetched from its Helm repository (see helm.go); any
// other type is an error naming the resource and the type, unless the
// transfer keeps such accesses as they are (ByReference).
func (cp *componentPlanner) unsupportedAccess(ctx context.Context, rs *resource.Content, r *component.Resource, ch ResourceChange, targetCV string) (ResourceChange, []v1.Descriptor, error) {
	if cp.o.ByReference {
		ch.How = "by reference"
		return ch, nil, nil
	}
	if r.Access.Kind() == component.AccessHelm {
		return cp.helmChart(ctx, rs, r, ch, targetCV)
	}
	return ch, nil, fmt.Errorf("%s: %w: %s; pass --by-reference to keep its access as it is (its content does not cross)",
		rs.Name(r), ErrUnsupportedAccess, r.Access.Type)
}

// helmChart fetches a chart named by a helm/v1 access from its Helm
// repository and plans it into the target version's index as an OCI Helm
// chart (helmrepo.OCI), as the OCM v2 CLI stores a chart: the access
// becomes LocalBlob/v1 with the manifest's digest. A recorded
// genericBlobDigest/v1 is compared with the chart archive (or the
// manifest) and kept as it is.
func (cp *componentPlanner) helmChart(ctx context.Context, rs *resource.Content, r *component.Resource, ch ResourceChange, targetCV string) (ResourceChange, []v1.Descriptor, error) {
	var acc helmrepo.Access
	if err := r.Access.Decode(&acc); err != nil {
		return ch, nil, fmt.Errorf("%s: %w", rs.Name(r), err)
	}
	client := cp.o.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 5 * time.Minute}
	}
	chart, err := helmrepo.Fetch(ctx, client, acc)
	if err != nil {
		return ch, nil, fmt.Errorf("%s: %w", rs.Name(r), oci.WithSide(err, oci.Source, "fetch"))
	}
	art, err := helmrepo.OCI(chart)
	if err != nil {
		return ch, nil, fmt.Errorf("%s: %w", rs.Name(r), err)
	}
	d := art.Manifest
	if r.Digest != nil && !r.Digest.IsExcluded() && r.Digest.NormalisationAlgorithm == component.GenericBlobDigestV1 && strings.EqualFold(strings.ReplaceAll(r.Digest.HashAlgorithm, "-", ""), "sha256") {
		sum := oci.Digest(chart.Archive)
		if r.Digest.Value != sum.Hex && r.Digest.Value != d.Digest.Hex {
			return ch, nil, fmt.Errorf("%s: the chart from %s is %s, the descriptor records %s: %w", rs.Name(r), chart.URL, sum, r.Digest, ErrResourceChanged)
		}
		ch.Checked = true
	}
	repo := cp.src.addSet(d.Digest, art, art)
	if err := cp.pl.AddResolved(ctx, repo, d, targetCV, nil, rs.Name(r)); err != nil {
		return ch, nil, fmt.Errorf("%s: %w", rs.Name(r), err)
	}
	if r.Digest == nil {
		r.Digest = &component.DigestSpec{HashAlgorithm: "SHA-256", NormalisationAlgorithm: component.GenericBlobDigestV1, Value: d.Digest.Hex}
	}
	if r.Access, err = component.NewAccess(component.LocalBlobAccess{Type: "LocalBlob/v1", LocalReference: d.Digest.String(), MediaType: string(d.MediaType)}); err != nil {
		return ch, nil, err
	}
	ch.How, ch.To, ch.Digest = "by value", r.Access, d.Digest
	return ch, []v1.Descriptor{{MediaType: d.MediaType, Digest: d.Digest, Size: d.Size}}, nil
}
