package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/pflag"

	"github.com/ferry-oci/ferry/transfer"
)

// uploadAsFlag is --upload-as on transfer, bundle create and component
// create: how images copied by value are stored (OCM's names).
type uploadAsFlag struct{ value string }

func (u *uploadAsFlag) add(f *pflag.FlagSet) {
	f.StringVar(&u.value, "upload-as", transfer.UploadAsOCIArtifact,
		"how copied images are stored: ociArtifact (an artifact of its own repository; both OCM CLIs read it) or localBlob (inside the component version's OCI index, as the OCM v2 CLI stores them; the OCM v1 CLI cannot read that)")
}

// mode checks the flag against the other options of the command.
func (u *uploadAsFlag) mode(artifactSets bool, platforms []string) (string, error) {
	m, err := transfer.ParseUploadAs(u.value)
	if err != nil {
		return "", usageErr(fmt.Errorf("--upload-as: %w", err))
	}
	if m == transfer.UploadAsLocalBlob && artifactSets {
		return "", usageErr(errors.New("--upload-as localBlob stores images in the version's index; --ocm-artifact-sets stores them as artifact sets: choose one"))
	}
	if m == transfer.UploadAsLocalBlob && len(platforms) > 0 {
		return "", usageErr(errors.New("--upload-as localBlob stores whole images: it does not combine with --platform"))
	}
	return m, nil
}
