package bom

import (
	"bytes"
	"fmt"
	"path"
	"strings"

	cdx "github.com/CycloneDX/cyclonedx-go"
)

// MediaTypeCycloneDX is the media type of a CycloneDX JSON document.
const MediaTypeCycloneDX = "application/vnd.cyclonedx+json"

// CycloneDX writes the bill of materials as a CycloneDX 1.6 JSON document,
// for scanners and Dependency-Track: every image as a container component
// identified by its package URL (pkg:oci/NAME@sha256%3A…, the digest the
// target holds, with repository_url and tag qualifiers) and a SHA-256 hash,
// the OCM component versions as application components (the last one, a
// version no other one of the crossing references, as the metadata
// component), and as dependencies what each version's resources and
// references name. tool names the program that made it ("ferry v0.4.0").
// The output has no time stamp or serial number, so the same crossing
// gives the same bytes.
func (b *BOM) CycloneDX(tool string) ([]byte, error) {
	doc := cdx.NewBOM()
	toolName, toolVersion, _ := strings.Cut(tool, " ")
	doc.Metadata = &cdx.Metadata{Tools: &cdx.ToolsChoice{Components: &[]cdx.Component{{Type: cdx.ComponentTypeApplication, Name: toolName, Version: toolVersion}}}}

	var comps []cdx.Component
	imageRef := map[string]string{} // digest -> bom-ref
	for _, im := range b.Images {
		ref := imagePURL(im)
		if _, dup := imageRef[im.Digest.String()]; dup {
			continue
		}
		imageRef[im.Digest.String()] = ref
		if im.FilteredFrom != nil {
			imageRef[im.FilteredFrom.String()] = ref
		}
		props := []cdx.Property{{Name: "ferry:source", Value: im.Source}, {Name: "ferry:target", Value: im.Target}, {Name: "ferry:mediaType", Value: string(im.MediaType)}}
		for _, p := range im.Platforms {
			props = append(props, cdx.Property{Name: "ferry:platform", Value: p})
		}
		if im.FilteredFrom != nil {
			props = append(props, cdx.Property{Name: "ferry:filteredFrom", Value: im.FilteredFrom.String()})
		}
		for _, s := range im.Signatures {
			props = append(props, cdx.Property{Name: "ferry:signature", Value: signatureString(s)})
		}
		comps = append(comps, cdx.Component{
			BOMRef: ref, Type: cdx.ComponentTypeContainer, Name: repoName(im.Source), Version: im.Digest.String(),
			PackageURL: ref, Hashes: &[]cdx.Hash{{Algorithm: cdx.HashAlgoSHA256, Value: im.Digest.Hex}},
			Properties: &props,
		})
	}

	var deps []cdx.Dependency
	var ocm []cdx.Component
	referenced := map[string]bool{}
	for _, c := range b.Components {
		for _, r := range c.References {
			referenced[ocmRef(r.ComponentName, r.Version)] = true
		}
	}
	for _, c := range b.Components {
		ref := ocmRef(c.Name, c.Version)
		props := []cdx.Property{{Name: "ferry:source", Value: c.Source}, {Name: "ferry:target", Value: c.Target},
			{Name: "ferry:manifest", Value: c.Manifest.String()}}
		if c.VerifiedBy != "" {
			props = append(props, cdx.Property{Name: "ferry:verifiedBy", Value: c.VerifiedBy})
		}
		for _, s := range c.Signatures {
			props = append(props, cdx.Property{Name: "ferry:signature", Value: signatureString(s)})
		}
		oc := cdx.Component{BOMRef: ref, Type: cdx.ComponentTypeApplication, Name: c.Name, Version: c.Version, Properties: &props}
		if c.Digest.Value != "" && strings.EqualFold(c.Digest.HashAlgorithm, "SHA-256") {
			oc.Hashes = &[]cdx.Hash{{Algorithm: cdx.HashAlgoSHA256, Value: c.Digest.Value}}
		}
		var on []string
		seen := map[string]bool{}
		add := func(r string) {
			if r != "" && !seen[r] {
				seen[r] = true
				on = append(on, r)
			}
		}
		for _, r := range c.Resources {
			add(imageRef[locationDigest(r)])
		}
		for _, r := range c.References {
			if b.Component(r.ComponentName, r.Version) != nil {
				add(ocmRef(r.ComponentName, r.Version))
			}
		}
		d := cdx.Dependency{Ref: ref}
		if len(on) > 0 {
			d.Dependencies = &on
		}
		deps = append(deps, d)
		ocm = append(ocm, oc)
	}
	// The metadata component is the last version no other one references
	// (plan order puts referenced versions first); the others are components.
	root := -1
	for i := len(ocm) - 1; i >= 0; i-- {
		if !referenced[ocm[i].BOMRef] {
			root = i
			break
		}
	}
	for i := range ocm {
		if i == root {
			c := ocm[i]
			doc.Metadata.Component = &c
			continue
		}
		comps = append(comps, ocm[i])
	}
	for _, im := range comps {
		if im.Type == cdx.ComponentTypeContainer {
			deps = append(deps, cdx.Dependency{Ref: im.BOMRef})
		}
	}
	doc.Components = &comps
	doc.Dependencies = &deps
	var out bytes.Buffer
	enc := cdx.NewBOMEncoder(&out, cdx.BOMFileFormatJSON)
	enc.SetPretty(true)
	if err := enc.EncodeVersion(doc, cdx.SpecVersion1_6); err != nil {
		return nil, fmt.Errorf("encoding the CycloneDX bill of materials: %w", err)
	}
	return out.Bytes(), nil
}

// imagePURL is an image's package URL (purl-spec, type oci): the last
// path element of its repository as the name, the digest as the version,
// the repository it was read from and its first tag as qualifiers.
func imagePURL(im Image) string {
	s := "pkg:oci/" + purlEscape(strings.ToLower(repoName(im.Source)), "") + "@" + purlEscape(im.Digest.String(), "") +
		"?repository_url=" + purlEscape(im.Source, "/:")
	if len(im.Tags) > 0 {
		s += "&tag=" + purlEscape(im.Tags[0], "")
	}
	return s
}

// purlEscape percent-encodes every byte of s but letters, digits, ".-_~"
// and those in keep, as package URLs are written (the digest's ':' becomes
// %3A).
func purlEscape(s, keep string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte(".-_~", c) >= 0 || strings.IndexByte(keep, c) >= 0 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

func repoName(repo string) string { return path.Base(repo) }

func ocmRef(name, version string) string { return "ocm:" + name + ":" + version }

// locationDigest returns the digest a resource's location names
// ("repo:tag@sha256:…"), or "".
func locationDigest(r Resource) string {
	if _, d, ok := strings.Cut(r.Location, "@"); ok {
		return d
	}
	return ""
}

func signatureString(s Signature) string {
	v := s.Kind
	if s.Name != "" {
		v += " " + s.Name
	}
	if s.Verified {
		v += " verified"
	}
	return v
}
