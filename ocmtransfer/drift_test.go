package ocmtransfer_test

import (
	"errors"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/ferry-oci/ferry/internal/registrytest"
	"github.com/ferry-oci/ferry/oci"
	"github.com/ferry-oci/ferry/oci/storetest"
	"github.com/ferry-oci/ferry/ocmtransfer"
	"github.com/ferry-oci/ferry/transfer"
)

// TestDriftGate carries podinfo 6.3.5 into a target, rewrites its image
// tag out of band, and plans the same transfer again: the gate stops it
// with the tag, both digests and nothing written; skip leaves the tag;
// overwrite moves it and keeps the old content under the backup tag.
func TestDriftGate(t *testing.T) {
	ctx := t.Context()
	src := seedSource(t)
	dstReg := registrytest.New(t)
	s := storeFor(t, src, dstReg)
	from := end{store: s, base: src.Host + "/ocm"}
	to := end{store: s, base: dstReg.Host + "/air"}
	refs := versions(t, "example.com/podinfo:6.3.5")
	// The gate decides about versions that differ, so the planner lets them through.
	opts := ocmtransfer.PlanOptions{Overwrite: true}
	if _, _, err := move(ctx, from, s, refs, to, opts, transfer.Options{}); err != nil {
		t.Fatal(err)
	}
	tagRef, _ := oci.ParseRef(dstReg.Host + "/air/stefanprodan/podinfo:6.3.5")
	resolve := func(r oci.Ref) v1.Hash {
		t.Helper()
		d, err := s.Resolve(ctx, r)
		if err != nil {
			t.Fatalf("resolving %s: %v", r, err)
		}
		return d.Digest
	}
	planned := resolve(tagRef)

	// In sync: every tag checked, none drifted.
	p, _, err := plan(ctx, from, s, refs, to, opts)
	if err != nil {
		t.Fatal(err)
	}
	checks, err := ocmtransfer.Gate(ctx, p, s, transfer.DriftOptions{})
	if err != nil || len(checks) < 2 || len(transfer.Drifted(checks)) != 0 {
		t.Fatalf("in sync: %d checks, %v", len(checks), err)
	}

	// Out of band: the tag now names another image.
	other := storetest.NewImage(1, 256)
	other.Push(ctx, t, s, dstReg.Host+"/air/stefanprodan/podinfo")
	if err := s.Tag(ctx, tagRef, other.Desc); err != nil {
		t.Fatal(err)
	}

	p, _, err = plan(ctx, from, s, refs, to, opts)
	if err != nil {
		t.Fatal(err)
	}
	_, err = ocmtransfer.Gate(ctx, p, s, transfer.DriftOptions{Policy: transfer.DriftStop})
	var de *transfer.DriftError
	if !errors.As(err, &de) || !errors.Is(err, transfer.ErrDrift) || len(de.Drifted) != 1 {
		t.Fatalf("gate: %v, want one drifted tag", err)
	}
	d := de.Drifted[0]
	if d.Ref() != tagRef.String() || d.Found != other.Desc.Digest || d.Planned != planned || d.Action != "stop" {
		t.Errorf("drift %+v", d)
	}
	for _, want := range []string{"TAG", "TARGET DIGEST", "SOURCE DIGEST", tagRef.String(), other.Desc.Digest.String(), planned.String()} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not show %q:\n%s", want, err)
		}
	}
	if resolve(tagRef) != other.Desc.Digest {
		t.Error("the stopped gate moved the tag")
	}

	// Skip: the tag stays, the run goes on.
	p, _, err = plan(ctx, from, s, refs, to, opts)
	if err != nil {
		t.Fatal(err)
	}
	checks, err = ocmtransfer.Gate(ctx, p, s, transfer.DriftOptions{Policy: transfer.DriftSkip})
	if err != nil || len(transfer.Drifted(checks)) != 1 || transfer.Drifted(checks)[0].Action != "skip" {
		t.Fatalf("skip: %v %+v", err, transfer.Drifted(checks))
	}
	if _, err := ocmtransfer.Run(ctx, p, s, s, transfer.Options{}); err != nil {
		t.Fatal(err)
	}
	if resolve(tagRef) != other.Desc.Digest {
		t.Error("--skip-existing moved the tag")
	}

	// Overwrite with a backup tag.
	p, _, err = plan(ctx, from, s, refs, to, opts)
	if err != nil {
		t.Fatal(err)
	}
	checks, err = ocmtransfer.Gate(ctx, p, s, transfer.DriftOptions{Policy: transfer.DriftOverwrite, BackupSuffix: "-before"})
	if err != nil || len(transfer.Drifted(checks)) != 1 || transfer.Drifted(checks)[0].Backup != "6.3.5-before" {
		t.Fatalf("overwrite: %v %+v", err, transfer.Drifted(checks))
	}
	if _, err := ocmtransfer.Run(ctx, p, s, s, transfer.Options{}); err != nil {
		t.Fatal(err)
	}
	backup, _ := oci.ParseRef(dstReg.Host + "/air/stefanprodan/podinfo:6.3.5-before")
	if resolve(tagRef) != planned || resolve(backup) != other.Desc.Digest {
		t.Errorf("overwrite: tag %s (want %s), backup %s (want %s)", resolve(tagRef), planned, resolve(backup), other.Desc.Digest)
	}

	// A component version's tag rewritten out of band drifts too.
	cvRef, _ := oci.ParseRef(dstReg.Host + "/air/component-descriptors/example.com/podinfo:6.3.5")
	cvDigest := resolve(cvRef)
	other.Push(ctx, t, s, cvRef.Repo())
	if err := s.Tag(ctx, cvRef, other.Desc); err != nil {
		t.Fatal(err)
	}
	p, _, err = plan(ctx, from, s, refs, to, opts)
	if err != nil {
		t.Fatal(err)
	}
	_, err = ocmtransfer.Gate(ctx, p, s, transfer.DriftOptions{})
	if !errors.As(err, &de) || len(de.Drifted) != 1 || de.Drifted[0].Component != "example.com/podinfo:6.3.5" || de.Drifted[0].Planned != cvDigest {
		t.Fatalf("component drift: %v", err)
	}
	if err := transfer.CheckBackupSuffix(":x"); err == nil {
		t.Error("a suffix with ':' was accepted")
	}
}
