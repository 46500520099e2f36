package cli

import (
	"github.com/spf13/pflag"

	"github.com/ferry-oci/ferry/ocmtransfer"
)

// addUploadAsFlag binds --upload-as (transfer, bundle create and
// component create) to v: how images copied by value are stored (OCM's
// names). The release package checks the value and how it combines with
// the other options.
func addUploadAsFlag(f *pflag.FlagSet, v *string) {
	f.StringVar(v, "upload-as", ocmtransfer.UploadAsOCIArtifact,
		"how copied images are stored: ociArtifact (an artifact of its own repository; both OCM CLIs read it) or localBlob (inside the component version's OCI index, as the OCM v2 CLI stores them; the OCM v1 CLI cannot read that)")
}
