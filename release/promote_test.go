package release_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/ferry-oci/ferry/internal/registrytest"
	"github.com/ferry-oci/ferry/mirror"
	"github.com/ferry-oci/ferry/oci"
	"github.com/ferry-oci/ferry/oci/remote"
	"github.com/ferry-oci/ferry/oci/storetest"
	"github.com/ferry-oci/ferry/release"
	"github.com/ferry-oci/ferry/transfer"
)

// TestPromotion drives the promotion options through the library: the
// sample version by constraint, a tag rewritten out of band that Check
// finds and Transfer refuses (nothing written), SkipExisting, Overwrite
// with a backup tag, the CycloneDX BOM and the mirror configuration.
func TestPromotion(t *testing.T) {
	ctx := t.Context()
	staging, reg := registrytest.New(t), registrytest.New(t)
	if _, err := release.Transfer(ctx, []string{"testdata/podinfo-ctf"}, "http://"+staging.Host, release.Options{}); err != nil {
		t.Fatal(err)
	}
	src := []string{"http://" + staging.Host + "//example.com/podinfo@latest"}
	dst := "http://" + reg.Host + "/air"
	dir := t.TempDir()
	// From an archive, images have no upstream registry to mirror.
	if _, err := release.Transfer(ctx, []string{"testdata/podinfo-ctf"}, dst, release.Options{Promotion: release.Promotion{MirrorConfig: dir}}); !errors.Is(err, release.ErrUsage) {
		t.Errorf("--mirror-config from a CTF: %v", err)
	}
	res, err := release.Transfer(ctx, src, dst, release.Options{Promotion: release.Promotion{CycloneDX: true, MirrorConfig: dir}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.CycloneDX) == 0 || len(res.MirrorFiles) != 4 {
		t.Fatalf("CycloneDX %d bytes, mirror files %v", len(res.CycloneDX), res.MirrorFiles)
	}
	if _, err := os.Stat(filepath.Join(dir, "idms", "imagedigestmirrorset.yaml")); err != nil {
		t.Error(err)
	}

	s, err := remote.New()
	if err != nil {
		t.Fatal(err)
	}
	tag, _ := oci.ParseRef(reg.Host + "/air/library/busybox:1.36")
	planned, err := s.Resolve(ctx, tag)
	if err != nil {
		t.Fatal(err)
	}
	other := storetest.NewImage(1, 128)
	other.Push(ctx, t, s, tag.Repo())
	if err := s.Tag(ctx, tag, other.Desc); err != nil {
		t.Fatal(err)
	}

	res, err = release.Transfer(ctx, src, dst, release.Options{Promotion: release.Promotion{Check: true}})
	if err != nil || len(res.Drift) != 1 || res.Drift[0].Found != other.Desc.Digest || len(res.Tags) < 3 {
		t.Fatalf("check: %v, drift %+v", err, res)
	}
	reg.ResetRequests()
	_, err = release.Transfer(ctx, src, dst, release.Options{})
	var de *transfer.DriftError
	if !errors.As(err, &de) || !errors.Is(err, transfer.ErrDrift) || reg.Requests().Count("PUT", "") != 0 {
		t.Fatalf("transfer over drift: %v, %d PUTs", err, reg.Requests().Count("PUT", ""))
	}
	if _, err := release.Transfer(ctx, src, dst, release.Options{Overwrite: true, Promotion: release.Promotion{SkipExisting: true}}); !errors.Is(err, release.ErrUsage) {
		t.Errorf("Overwrite and SkipExisting: %v", err)
	}
	res, err = release.Transfer(ctx, src, dst, release.Options{Promotion: release.Promotion{SkipExisting: true}})
	if err != nil || len(res.Drift) != 1 || res.Drift[0].Action != "skip" {
		t.Fatalf("skip: %v %+v", err, res)
	}
	res, err = release.Transfer(ctx, src, dst, release.Options{Overwrite: true, Promotion: release.Promotion{BackupTagSuffix: ".old"}})
	if err != nil || len(res.Drift) != 1 || res.Drift[0].Backup != "1.36.old" {
		t.Fatalf("overwrite: %v %+v", err, res)
	}
	backup, _ := oci.ParseRef(reg.Host + "/air/library/busybox:1.36.old")
	if d, err := s.Resolve(ctx, tag); err != nil || d.Digest != planned.Digest {
		t.Errorf("overwrite left %v (%v)", d.Digest, err)
	}
	if d, err := s.Resolve(ctx, backup); err != nil || d.Digest != other.Desc.Digest {
		t.Errorf("backup %v (%v)", d.Digest, err)
	}

	// MirrorConfig plans where the copies land without writing to the registry.
	reg.ResetRequests()
	mr, err := release.MirrorConfig(ctx, src, reg.Host+"/elsewhere", t.TempDir(), nil, mirrorOptions(), release.Options{})
	if err != nil || len(mr.Pairs) != 2 || len(mr.Files) != 4 || reg.Requests().Count("PUT", "") != 0 {
		t.Fatalf("MirrorConfig: %v %+v", err, mr)
	}
}

func mirrorOptions() mirror.Options { return mirror.Options{} }
