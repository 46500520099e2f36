package bom

import (
	"fmt"
	"github.com/ferry-oci/ferry/internal/human"
	"strings"
)

// VerifiedSummary says what the gates verified before copying, for people:
// "verified before copying: 2 component versions (…), 3 images by cosign
// signature", or "" when nothing was verified (or b is nil).
func (b *BOM) VerifiedSummary() string {
	if b == nil {
		return ""
	}
	var versions, bySig, images int
	for _, c := range b.Components {
		if c.VerifiedBy != "" {
			versions++
		}
		if c.VerifiedBy == "signature" {
			bySig++
		}
	}
	for _, im := range b.Images {
		for _, s := range im.Signatures {
			if s.Verified {
				images++
				break
			}
		}
	}
	var parts []string
	if versions > 0 {
		parts = append(parts, fmt.Sprintf("%s (%d by signature, %d by a signed reference)", human.Count(versions, "component version"), bySig, versions-bySig))
	}
	if images > 0 {
		parts = append(parts, human.Count(images, "image")+" by cosign signature")
	}
	if len(parts) == 0 {
		return ""
	}
	return "verified before copying: " + strings.Join(parts, ", ")
}
