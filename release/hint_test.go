package release

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferry-oci/ferry/bundle"
	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/cosign"
	"github.com/ferry-oci/ferry/internal/exitcode"
	"github.com/ferry-oci/ferry/oci"
	"github.com/ferry-oci/ferry/oci/remote"
	"github.com/ferry-oci/ferry/transfer"
)

func TestHintPicksTheOutermostOwnHint(t *testing.T) {
	err := WithHint(fmt.Errorf("x: %w", WithHint(errors.New("inner"), "inner hint")), "outer %s", "hint")
	if got := Hint(err, true, false); got != "outer hint" {
		t.Errorf("Hint = %q, want the outer hint", got)
	}
	if WithHint(nil, "h") != nil {
		t.Error("WithHint(nil) is not nil")
	}
}

func TestHintByError(t *testing.T) {
	for _, tc := range []struct {
		err            error
		usage, resumes bool
		want           string
	}{
		{component.ErrNoVersionMatches, false, false, "widen the constraint"},
		{fmt.Errorf("promote: %w", &transfer.DriftError{}), false, true, "--skip-existing"},
		{errors.New("bad flag"), true, false, "ferry help"},
		{fmt.Errorf("copy: %w", oci.ErrDigestMismatch), false, false, "damaged in storage or in transit"},
		{exitcode.Mark(errors.New("stop"), exitcode.Interrupted), false, true, "resumes where it stopped"},
		{exitcode.Mark(errors.New("stop"), exitcode.Interrupted), false, false, "when you are ready"},
		{errors.New("plain"), false, false, ""},
	} {
		if got := Hint(tc.err, tc.usage, tc.resumes); tc.want == "" && got != "" || !strings.Contains(got, tc.want) {
			t.Errorf("Hint(%v) = %q, want %q in it", tc.err, got, tc.want)
		}
	}
}

func TestIsUsage(t *testing.T) {
	if !IsUsage(usageError("x")) || !IsUsage(fmt.Errorf("c: %w", component.ErrInvalidConstraint)) || IsUsage(errors.New("x")) {
		t.Error("IsUsage misjudges")
	}
}

func TestVerifyPlanBundleHints(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{VerifyHint(cosign.ErrUnsigned), "leave out --verify-images-key"},
		{VerifyHint(component.ErrNoSignature), "ferry component sign"},
		{PlanHint(ErrPlanStale), "make the plan again"},
		{BundleHint(fs.ErrNotExist, "b.tar"), "there is no bundle b.tar"},
		{BundleHint(exitcode.Mark(errors.New("bad"), exitcode.Damaged), "b.tar"), "ferry bundle verify b.tar"},
		{ImportHint(context.Background(), &LeftOutError{}, "b.tar"), "import the bundles this one builds on first"},
	} {
		if got := Hint(tc.err, false, false); !strings.Contains(got, tc.want) {
			t.Errorf("%v: hint %q, want %q in it", tc.err, got, tc.want)
		}
	}
	if err := VerifyHint(errors.New("other")); Hint(err, false, false) != "" {
		t.Error("VerifyHint hints at an unrelated error")
	}
}

func TestLocalizeHint(t *testing.T) {
	if got := Hint(LocalizeHint(ErrNoRules), false, false); !strings.Contains(got, "--rules FILE") {
		t.Errorf("hint for ErrNoRules: %q", got)
	}
	if !IsUsage(LocalizeHint(fmt.Errorf("r: %w", component.ErrInvalidIdentity))) {
		t.Error("a malformed identity is no usage error")
	}
}

func TestHintForAMissingRegistryFile(t *testing.T) {
	err := exitcode.Mark(&remote.ConfigFileError{Flag: "--ca-file", Path: "ca.pem", Err: fs.ErrNotExist}, exitcode.Usage)
	if got := Hint(err, true, false); got != "check the path given to --ca-file: the file must exist and be readable" {
		t.Errorf("Hint = %q", got)
	}
}

func TestBundleCreateHint(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{ErrPlanStale, "make the plan again"},
		{bundle.ErrPartialExists, "add --resume to continue it, or delete r.tar.partial*"},
		{fs.ErrExist, "the bundle exists already"},
		{bundle.ErrPlanChanged, "delete r.tar.partial* and create it again"},
		{fmt.Errorf("creating bundle r.tar: %w: it needs 1.0 GiB", bundle.ErrNoSpace), "nothing was fetched: make room"},
		{&RunError{Err: errors.New("cut")}, "run the same command with --resume"},
		{component.ErrNoSignature, "ferry component sign"},
	} {
		if got := Hint(BundleCreateHint(tc.err, "r.tar"), false, true); !strings.Contains(got, tc.want) {
			t.Errorf("BundleCreateHint(%v): hint %q, want %q in it", tc.err, got, tc.want)
		}
	}
	if err := errors.New("plain"); BundleCreateHint(err, "r.tar") != err {
		t.Error("BundleCreateHint wraps an error it has no hint for")
	}
}

func TestReadBundleOptions(t *testing.T) {
	bo, err := ReadBundleOptions("4KiB", "", true)
	if err != nil || bo.VolumeSize != 4096 || !bo.Resume || bo.MissingFrom != nil {
		t.Fatalf("ReadBundleOptions(4KiB) = %+v, %v", bo, err)
	}
	if _, err := ReadBundleOptions("four", "", false); !IsUsage(err) || !strings.Contains(err.Error(), "--split") {
		t.Errorf("a malformed --split: %v, want a usage error naming the flag", err)
	}
	dir := t.TempDir()
	bad := filepath.Join(dir, "inventory.json")
	if err := os.WriteFile(bad, []byte(`{"mediaType":"text/plain"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadBundleOptions("", bad, false); !errors.Is(err, bundle.ErrInvalidInventory) || !strings.Contains(err.Error(), bad) {
		t.Errorf("a foreign --missing-from file: %v, want ErrInvalidInventory naming the file", err)
	}
	if _, err := ReadBundleOptions("", filepath.Join(dir, "none.json"), false); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a missing --missing-from file: %v, want fs.ErrNotExist", err)
	}
}
