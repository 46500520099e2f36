package cli

import (
	"github.com/spf13/cobra"

	"github.com/ferry-oci/ferry/release"
)

// verifyFlags are the supply-chain gates of transfer, bundle create and
// bundle import: what must be proven before anything crosses.
type verifyFlags struct {
	signatures []string // --verify-signature NAME
	publicKeys []string // --public-key FILE, one per signature
	imageKeys  []string // --verify-images-key FILE
}

func (f *verifyFlags) add(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringArrayVar(&f.signatures, "verify-signature", nil, "refuse component versions without a valid OCM signature `NAME` (repeatable, each with a --public-key)")
	fl.StringArrayVar(&f.publicKeys, "public-key", nil, "PEM `FILE` with the RSA public key (or certificate) of the --verify-signature at the same position")
	fl.StringArrayVar(&f.imageKeys, "verify-images-key", nil, "refuse images without a cosign signature that verifies with the public key in `FILE` (PEM; repeatable: any key will do)")
}

// releaseOptions are the options of a transfer, bundle create or import:
// the repositories' options, the gates, platforms, attachments and jobs.
func (g *globals) releaseOptions(f verifyFlags, platforms []string, noAttachments bool, jobs int) (release.Options, error) {
	o, err := release.ReadGates(f.signatures, f.publicKeys, f.imageKeys, platforms)
	if err != nil {
		return o, err
	}
	if o.Repository, err = g.repoOptions(); err != nil {
		return o, err
	}
	o.NoAttachments, o.Jobs, o.Logger = noAttachments, jobs, g.logger()
	return o, nil
}
