package bundle

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/ferry-oci/ferry/ctf"
	"github.com/ferry-oci/ferry/internal/testimage"
	"github.com/ferry-oci/ferry/oci"
)

// TestWriterIsWhatCTFWrites: the tar the writer lays out in advance is
// byte for byte what package ctf writes for the same content, and it
// verifies.
func TestWriterIsWhatCTFWrites(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "sample.tar")
	vols := write(t, path, testimage.Sample(), CreateOptions{})
	if len(vols) != 1 || vols[0].Path != path {
		t.Fatalf("volumes %v", vols)
	}
	b := readAll(t, vols)
	a, err := ctf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	var again bytes.Buffer
	if err := a.WriteTar(ctx, &again); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again.Bytes(), b) {
		t.Fatal("ctf writes the content differently")
	}
	rep, err := Verify(ctx, path, VerifyOptions{})
	if err != nil {
		t.Fatalf("verify: %v (%+v)", err, rep.Problems)
	}
	if !rep.Sidecar || !rep.Metadata || rep.Blobs == 0 {
		t.Errorf("report %+v", rep)
	}
	if m, _ := filepath.Glob(path + ".partial*"); len(m) > 0 {
		t.Errorf("left behind: %v", m)
	}
	// A second create refuses to overwrite.
	if _, err := Create(path, CreateOptions{}); err == nil {
		t.Error("Create over an existing bundle succeeded")
	}
}

func TestWriterRefusesWhatWasNotLaidOut(t *testing.T) {
	ctx := context.Background()
	w, err := Create(filepath.Join(t.TempDir(), "b.tar"), CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Discard()
	set := testimage.Sample()
	if err := w.Begin(ctx, contentsOf(t, set[:1])); err != nil {
		t.Fatal(err)
	}
	stray := []byte("not planned")
	err = w.Push(ctx, "x", v1.Descriptor{Digest: oci.Digest(stray), Size: int64(len(stray))}, bytes.NewReader(stray))
	if !errors.Is(err, oci.ErrUnsupported) {
		t.Errorf("push of unplanned content: %v", err)
	}
	e := contentsOf(t, set[:1]).Entries[0]
	err = w.Push(ctx, e.Repo, e.Descriptor, bytes.NewReader(make([]byte, e.Descriptor.Size)))
	if !errors.Is(err, oci.ErrDigestMismatch) {
		t.Errorf("push of wrong bytes: %v", err)
	}
	if ok, _ := w.Exists(ctx, e.Repo, e.Descriptor); ok {
		t.Error("wrong bytes count as present")
	}
	if _, err := w.Close(); !errors.Is(err, ErrIncomplete) {
		t.Errorf("Close of an incomplete bundle: %v", err)
	}
}

// TestResumeRehashesAndRefetches: a create stopped part way resumes; an
// entry the journal lists but whose bytes were damaged is written again;
// the result equals an uninterrupted create.
func TestResumeRehashesAndRefetches(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	set := testimage.Corpus(3, 1<<20)
	o := CreateOptions{VolumeSize: 200_000}
	want := readAll(t, write(t, filepath.Join(dir, "whole.tar"), set, o))

	path := filepath.Join(dir, "b.tar")
	w, err := Create(path, o)
	if err != nil {
		t.Fatal(err)
	}
	c := contentsOf(t, set)
	if err := w.Begin(ctx, c); err != nil {
		t.Fatal(err)
	}
	if _, err := set[:5].Push(ctx, w, ""); err != nil {
		t.Fatal(err)
	}
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	// Damage the bytes of one blob the journal vouches for, as a crash could.
	jb, _ := os.ReadFile(path + ".partial.journal")
	lines := strings.Split(strings.TrimSpace(string(jb)), "\n")
	victim, _ := v1.NewHash(strings.Fields(lines[3])[0])
	s := w.lay.slots[victim]
	vi, in := w.vols.locate(s.off)
	f, err := os.OpenFile(w.vols.names[vi]+".partial", os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte{0xff, 0xfe}, in)
	f.Close()
	// Resuming without Resume is refused; with other content it is refused.
	if _, err := Create(path, o); !errors.Is(err, ErrPartialExists) {
		t.Errorf("Create over a partial bundle: %v", err)
	}
	other, _ := Create(path, CreateOptions{VolumeSize: 300_000, Resume: true})
	if err := other.Begin(ctx, c); !errors.Is(err, ErrPlanChanged) {
		t.Errorf("resume with another volume size: %v", err)
	}
	other.Abort()

	w, err = Create(path, CreateOptions{VolumeSize: 200_000, Resume: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Begin(ctx, c); err != nil {
		t.Fatal(err)
	}
	r := w.Resumed()
	if r.Damaged != 1 || r.Blobs == 0 {
		t.Errorf("resumed %+v, want one damaged entry and some complete", r)
	}
	if ok, _ := w.Exists(ctx, "", v1.Descriptor{Digest: victim}); ok {
		t.Error("the damaged blob counts as present")
	}
	vols := pushAndClose(t, w, set)
	if !bytes.Equal(readAll(t, vols), want) {
		t.Error("the resumed bundle differs from an uninterrupted one")
	}
}

func TestVolumeNames(t *testing.T) {
	for _, c := range []struct {
		total, size int64
		want        []string
	}{
		{10, 0, []string{"f"}},
		{10, 10, []string{"f.000"}},
		{11, 10, []string{"f.000", "f.001"}},
		{10001, 10, nil},
	} {
		got := volumeNames("f", c.total, c.size)
		if c.want != nil && strings.Join(got, ",") != strings.Join(c.want, ",") {
			t.Errorf("volumeNames(%d, %d) = %v, want %v", c.total, c.size, got, c.want)
		}
		if c.want == nil && (len(got) != 1001 || got[1000] != "f.1000" || got[0] != "f.0000") {
			t.Errorf("1001 volumes: %v … %v", got[0], got[len(got)-1])
		}
	}
}
