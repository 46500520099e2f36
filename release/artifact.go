package release

import (
	"context"
	"fmt"
	"io"
	"os"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/ferry-oci/ferry/gitops"
	"github.com/ferry-oci/ferry/internal/human"
	"github.com/ferry-oci/ferry/oci/remote"
)

// PushDirectory publishes the files of the directory dir as a GitOps
// artifact at the reference text names (oci://REPO:TAG, see ParseImageRef)
// with the options and signing key r states (see Publish). A dir that is
// no directory is a *UsageError.
func PushDirectory(ctx context.Context, store *remote.Store, dir, text string, r PublishRequest) (*Published, error) {
	ref, err := ParseImageRef(store, text, true)
	if err != nil {
		return nil, err
	}
	o, signer, err := r.Parse()
	if err != nil {
		return nil, err
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return nil, &UsageError{fmt.Errorf("%s: not a directory", dir)}
	}
	return Publish(ctx, store, os.DirFS(dir), ref, o, signer)
}

// PulledArtifact is a GitOps artifact PullDirectory unpacked.
type PulledArtifact struct {
	Reference string   `json:"reference"` // as named
	Digest    v1.Hash  `json:"digest"`
	Files     []string `json:"files"` // the files unpacked, by slash path
	// Dir is the directory they were unpacked into.
	Dir    string `json:"-"`
	pinned string // the reference with the digest, once
}

// PullDirectory pulls the GitOps artifact at the reference text names
// (see ParseImageRef) and unpacks its files into dir (gitops.Pull).
func PullDirectory(ctx context.Context, store *remote.Store, text, dir string) (*PulledArtifact, error) {
	ref, err := ParseImageRef(store, text, false)
	if err != nil {
		return nil, err
	}
	if dir == "" {
		return nil, usageError("name the directory to unpack into with -O DIR")
	}
	p, err := gitops.Pull(ctx, store, ref, dir, gitops.PullOptions{})
	if err != nil {
		return nil, fmt.Errorf("pulling %s: %w", ref, err)
	}
	pinned := ref // the digest once, whether ref named it or not
	pinned.Digest = p.Descriptor.Digest
	return &PulledArtifact{Reference: ref.String(), Digest: p.Descriptor.Digest, Files: p.Files.Names(), Dir: dir, pinned: pinned.String()}, nil
}

// WriteTable lists the files, then a line naming the artifact by digest
// and where they went.
func (p *PulledArtifact) WriteTable(w io.Writer) error {
	for _, n := range p.Files {
		fmt.Fprintln(w, n)
	}
	_, err := fmt.Fprintf(w, "pulled %s into %s: %s\n", p.pinned, p.Dir, human.Count(len(p.Files), "file"))
	return err
}
