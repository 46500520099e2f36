package transfer_test

import (
	"context"
	"errors"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/ferry-oci/ferry/oci"
	"github.com/ferry-oci/ferry/transfer"
)

// finisher is a transfer.Finisher that needs one blob in a repository of
// its own and, when it finishes, records whether the plan's tags were set.
type finisher struct {
	t        *testing.T
	blob     v1.Hash
	repo     string
	tagged   oci.Ref // a tag of the plan that must be set before Finish
	blobsErr error
	finished bool
}

func (f *finisher) Blobs() (map[v1.Hash][]string, error) {
	return map[v1.Hash][]string{f.blob: {f.repo}}, f.blobsErr
}

func (f *finisher) Finish(ctx context.Context, dst oci.Store) error {
	if _, err := dst.Resolve(ctx, f.tagged); err != nil {
		f.t.Errorf("Finish ran before %s was tagged: %v", f.tagged, err)
	}
	f.finished = true
	return nil
}

// TestRunFinishes: a Run with Options.Finish copies the blobs the finisher
// needs into its repository with the plan's blobs and calls Finish after
// the tags; a finisher that refuses in Blobs stops the run before anything
// is written.
func TestRunFinishes(t *testing.T) {
	f := newFixture(t)
	s := newStore(t)
	p := f.plan(t, s)
	fin := &finisher{t: t, blob: f.image.Blobs[0].Digest, repo: f.dst.Host + "/air/finisher",
		tagged: ref(t, f.dst.Host+"/air/stefanprodan/podinfo:6.3.6")}
	refused := *fin
	refused.blobsErr = errors.New("no descriptor")
	if _, err := transfer.Run(t.Context(), p, s, s, transfer.Options{Finish: &refused}); !errors.Is(err, refused.blobsErr) || refused.finished {
		t.Fatalf("a finisher that refuses: %v (finished %v)", err, refused.finished)
	}
	if _, err := s.Resolve(t.Context(), fin.tagged); !errors.Is(err, oci.ErrNotFound) {
		t.Fatalf("a refused run tagged %s: %v", fin.tagged, err)
	}
	if _, err := transfer.Run(t.Context(), p, s, s, transfer.Options{Finish: fin}); err != nil || !fin.finished {
		t.Fatalf("run: %v (finished %v)", err, fin.finished)
	}
	if ok, err := s.Exists(t.Context(), fin.repo, f.image.Blobs[0]); err != nil || !ok {
		t.Errorf("the finisher's blob is not in %s: %v, %v", fin.repo, ok, err)
	}
}
