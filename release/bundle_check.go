package release

import (
	"context"
	"errors"
	"fmt"

	"github.com/ferry-oci/ferry/bundle"
)

// VerifyBundle verifies the bundle file (bundle.Verify, with jobs blobs
// hashed at once) or, with volume, the one volume file against its sidecar
// (bundle.VerifyVolume). The report comes back also when verification
// fails; the error then comes with a hint (WithHint, BundleHint).
func VerifyBundle(ctx context.Context, file string, volume bool, jobs int) (*bundle.Report, error) {
	var rep *bundle.Report
	var err error
	if volume {
		rep, err = bundle.VerifyVolume(ctx, file)
	} else {
		rep, err = bundle.Verify(ctx, file, bundle.VerifyOptions{Jobs: jobs})
	}
	switch {
	case errors.Is(err, bundle.ErrNoSidecar):
		return rep, WithHint(err, "keep the sidecar (the .sha256 file made with the bundle) beside the volume, or verify the whole bundle")
	case err != nil:
		return rep, BundleHint(fmt.Errorf("verifying %s: %w", file, err), file)
	}
	return rep, nil
}

// InspectBundle lists what the bundle file holds (bundle.Inspect); a
// bundle that does not open comes with a hint to verify it.
func InspectBundle(ctx context.Context, file string) (*bundle.Inspection, error) {
	b, err := bundle.Open(ctx, file)
	if err != nil {
		return nil, WithHint(err, "run 'ferry bundle verify %s' for details", file)
	}
	defer b.Close()
	in, err := bundle.Inspect(ctx, b)
	if err != nil {
		return nil, fmt.Errorf("inspecting %s: %w", file, err)
	}
	return in, nil
}
