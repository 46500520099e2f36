package ocmtransfer

import (
	"crypto"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/ferry-oci/ferry/bom"
	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/component/ocireg"
	"github.com/ferry-oci/ferry/transfer"
)

// BOM returns the bill of materials of the plan: every component version
// with its descriptor digest, signatures, resources and references, and
// every image (each root artifact that is not an attachment) with its
// platforms, signatures and attachments. Image digests are those the target
// holds, so call it after Run when a platform filter may have landed.
func (p *Plan) BOM() *bom.BOM {
	b := &bom.BOM{MediaType: bom.MediaType, Blobs: len(p.Blobs)}
	for _, bl := range p.Blobs {
		b.Bytes += bl.Size
	}
	for i := range p.Components {
		b.Components = append(b.Components, p.Components[i].bom())
	}
	byKey := map[artifactKey]*transfer.Artifact{}
	attachments := map[artifactKey]int{}
	for i := range p.Artifacts {
		a := &p.Artifacts[i]
		byKey[artifactKey{a.Target, a.Digest}] = a
		if a.Subject != nil {
			attachments[artifactKey{a.Target, *a.Subject}]++
		}
	}
	for _, a := range p.Roots() {
		if a.Attachment != "" {
			continue
		}
		d := a.Landed()
		im := bom.Image{Source: a.Source, Target: a.Target, Digest: d.Digest, MediaType: d.MediaType, Size: d.Size,
			Tags: a.Tags, For: a.For, Signatures: imageSignatures(a.Signatures), Attachments: attachments[artifactKey{a.Target, a.Digest}]}
		if d.Digest != a.Digest {
			from := a.Digest
			im.FilteredFrom = &from
		}
		for _, c := range a.Children {
			if ca := byKey[artifactKey{a.Target, c}]; ca != nil && ca.Platform != nil {
				im.Platforms = append(im.Platforms, ca.Platform.String())
			}
		}
		b.Images = append(b.Images, im)
	}
	b.Sort()
	return b
}

// artifactKey names an artifact of a plan: a manifest in a target repository.
type artifactKey struct {
	target string
	digest v1.Hash
}

// imageSignatures are the BOM's account of an image's verified signatures.
func imageSignatures(sigs []transfer.Signature) []bom.Signature {
	var out []bom.Signature
	for _, s := range sigs {
		out = append(out, bom.Signature{Kind: s.Kind, Digest: s.Digest, Verified: s.Verified, Key: s.Key})
	}
	return out
}

// bom is the BOM's account of one component version.
func (cv *ComponentVersion) bom() bom.Component {
	c := bom.Component{Name: cv.Name, Version: cv.Version, Manifest: cv.Digest, Source: cv.Source,
		Target: cv.Target + ":" + cv.Tag, Signatures: cv.Signatures, VerifiedBy: cv.VerifiedBy}
	if cv.Descriptor.Descriptor == nil {
		return c
	}
	// The normalised digest leaves out accesses and repository contexts:
	// it is the same for the source and the copy.
	if d, err := component.DescriptorDigest(cv.Descriptor.Descriptor, component.JSONNormalisationV3, crypto.SHA256); err == nil {
		c.Digest = d
	}
	index := cv.Descriptor.Descriptor.ResourceLookup()
	for _, ch := range cv.Resources {
		i := index(ch.Identity)
		if i < 0 {
			continue
		}
		r := cv.Descriptor.Descriptor.Resources[i]
		c.Resources = append(c.Resources, bom.Resource{Name: r.Name, Version: r.Version, ExtraIdentity: r.ExtraIdentity,
			Type: r.Type, Digest: r.Digest, How: ch.How, Location: location(ch), Checked: ch.Checked})
	}
	for _, r := range cv.Descriptor.Descriptor.References {
		c.References = append(c.References, bom.Reference{Name: r.Name, ComponentName: r.ComponentName, Version: r.Version, Digest: r.Digest})
	}
	return c
}

// location names where a resource's content is after the transfer.
func location(ch ResourceChange) string {
	switch ch.To.Kind() {
	case component.AccessOCIArtifact, component.AccessRelativeOCIReference:
		if im, err := ocireg.ImageOf(ch.To, ""); err == nil {
			return im.Access
		}
	case component.AccessLocalBlob:
		if a, err := ch.To.LocalBlob(); err == nil {
			return a.LocalReference
		}
	}
	return ""
}
