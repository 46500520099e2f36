package release

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"

	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/cosign"
	"github.com/ferry-oci/ferry/internal/exitcode"
	"github.com/ferry-oci/ferry/oci"
	"github.com/ferry-oci/ferry/oci/remote"
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
