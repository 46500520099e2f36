package transfer_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/ferry-oci/ferry/oci"
	"github.com/ferry-oci/ferry/transfer"
)

// TestVerifyImageOnce: an image several resources or targets name is asked
// about once, and what the verifier said is recorded on every copy; a
// refusal stops the plan.
func TestVerifyImageOnce(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t)
	s := newStore(t)
	calls := 0
	sig := transfer.Signature{Kind: "cosign", Digest: "sha256:x", Verified: true}
	pl := transfer.NewPlanner(s, transfer.PlanOptions{VerifyImage: func(_ context.Context, _ oci.Reader, repo string, d v1.Descriptor) ([]transfer.Signature, error) {
		calls++
		if d.Digest != f.image.Desc.Digest {
			return nil, fmt.Errorf("%s@%s: %w", repo, d.Digest, errRefused)
		}
		return []transfer.Signature{sig}, nil
	}})
	from := ref(t, f.src.Host+"/stefanprodan/podinfo:6.3.5")
	for _, to := range []string{f.dst.Host + "/a/podinfo", f.dst.Host + "/b/podinfo", f.dst.Host + "/a/podinfo"} {
		if _, err := pl.Add(ctx, from, to, nil, "test"); err != nil {
			t.Fatal(err)
		}
	}
	if calls != 1 {
		t.Errorf("the verifier was asked %d times about one image, want 1", calls)
	}
	for _, a := range pl.Plan().Artifacts {
		if a.Digest == f.image.Desc.Digest && (len(a.Signatures) != 1 || a.Signatures[0] != sig) {
			t.Errorf("%s: signatures %+v", a.Target, a.Signatures)
		}
	}
	if _, err := pl.Add(ctx, ref(t, f.src.Host+"/stefanprodan/podinfo@"+f.index.Digest.String()), f.dst.Host+"/a/podinfo", nil, "test"); !errors.Is(err, errRefused) {
		t.Errorf("a refused image: %v", err)
	}
}

var errRefused = errors.New("refused")
