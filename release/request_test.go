package release

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/localize"
	"github.com/ferry-oci/ferry/oci/remote"
)

func TestParseImageRef(t *testing.T) {
	s, err := remote.New()
	if err != nil {
		t.Fatal(err)
	}
	r, err := ParseImageRef(s, "oci://127.0.0.1:5000/apps/podinfo:1.0", true)
	if err != nil || r.Registry != "127.0.0.1:5000" || r.Tag != "1.0" {
		t.Fatalf("ParseImageRef = %+v, %v", r, err)
	}
	for _, text := range []string{"oci://127.0.0.1:5000/apps/podinfo", "ftp://x/y:1", "oci://UPPER/x:1"} {
		if _, err := ParseImageRef(s, text, true); !IsUsage(err) {
			t.Errorf("ParseImageRef(%q): %v, want a usage error", text, err)
		}
	}
	var pe *remote.PlainHTTPError
	if _, err := ParseImageRef(s, "http://registry.example/x:1", false); !errors.As(err, &pe) {
		t.Errorf("plain HTTP off loopback: %v, want *PlainHTTPError", err)
	}
}

func TestLocalizeRequestChecks(t *testing.T) {
	none := func() (*remote.Store, error) { t.Fatal("asked for a registry"); return nil, nil }
	for _, tc := range []struct {
		r    LocalizeRequest
		want string
	}{
		{LocalizeRequest{}, "say where the result goes"},
		{LocalizeRequest{Diff: true, RulesFile: "r.yaml", LocalizeOptions: LocalizeOptions{Config: "c"}}, "--rules and --config"},
		{LocalizeRequest{LocalizeOptions: LocalizeOptions{Out: "o"}, PublishRequest: PublishRequest{SignKey: "k"}}, "--sign-key signs what --push pushes"},
		{LocalizeRequest{Diff: true, ChartMode: "both"}, `--chart-mode "both"`},
		{LocalizeRequest{Diff: true, ChartMode: "values", RulesFile: filepath.Join(t.TempDir(), "none")}, "--rules: "},
	} {
		_, err := tc.r.Parse(component.Ref{}, none, false)
		if !IsUsage(err) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want a usage error with %q", tc.r, err, tc.want)
		}
	}
}

func TestLocalizeRequestDiffWritesNothing(t *testing.T) {
	r := LocalizeRequest{Diff: true, ChartMode: "values", LocalizeOptions: LocalizeOptions{Out: "dir"}}
	lo, err := r.Parse(component.Ref{}, nil, false)
	if err != nil || lo.Out != "" {
		t.Errorf("Parse with --diff: Out %q, %v; want none", lo.Out, err)
	}
}

func TestPublishRequest(t *testing.T) {
	o, key, err := (&PublishRequest{Format: "flux", Created: "2024-01-02T03:04:05Z"}).Parse()
	if err != nil || o.Format != "flux" || o.Created.Year() != 2024 || key != nil {
		t.Errorf("Parse = %+v, %v, %v", o, key, err)
	}
	if _, _, err := (&PublishRequest{Format: "oci", Created: "now"}).Parse(); !IsUsage(err) || !strings.HasPrefix(err.Error(), "--created ") {
		t.Errorf("a bad --created: %v", err)
	}
	if _, _, err := (&PublishRequest{SignKey: filepath.Join(t.TempDir(), "none")}).Parse(); !IsUsage(err) {
		t.Errorf("a missing --sign-key: %v, want a usage error", err)
	}
}

func TestPushDirectoryRefusesAFile(t *testing.T) {
	s, err := remote.New()
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(f, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := PushDirectory(context.Background(), s, f, "127.0.0.1:1/x:1", PublishRequest{}); !IsUsage(err) || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("PushDirectory(file): %v", err)
	}
	if _, err := PullDirectory(context.Background(), s, "127.0.0.1:1/x:1", ""); !IsUsage(err) {
		t.Errorf("PullDirectory without a directory: %v", err)
	}
}

func TestSignRequestOptions(t *testing.T) {
	o, err := SignRequest{Algorithm: "RSASSA-PSS", Hash: "SHA-512", Normalisation: component.JSONNormalisationV3}.Options()
	if err != nil || o.Algorithm != "RSASSA-PSS" || o.Normalisation != component.JSONNormalisationV3 {
		t.Errorf("Options = %+v, %v", o, err)
	}
	if _, err := (SignRequest{Hash: "MD5"}).Options(); !IsUsage(err) || !strings.HasPrefix(err.Error(), "--hash: ") {
		t.Errorf("a bad --hash: %v", err)
	}
	if _, err := (SignRequest{Hash: "SHA-256", Normalisation: "x"}).Options(); !IsUsage(err) || !strings.HasPrefix(err.Error(), `--normalisation "x"`) {
		t.Errorf("a bad --normalisation: %v", err)
	}
}

func TestSignedWriteTable(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	d := &component.Descriptor{}
	d.Name, d.Version, d.Provider.Name = "example.com/app", "1.0", "acme"
	if err := component.Sign(d, "acme", key, component.SignOptions{}); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	s := &Signed{d, "acme", "signed %s:%s as %q (digest %s)"}
	if err := s.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	want := `signed example.com/app:1.0 as "acme" (digest ` + s.Signature().Digest.String() + ")\n"
	if b.String() != want {
		t.Errorf("WriteTable = %q, want %q", b.String(), want)
	}
}

func TestKeyAndPlanFiles(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "none")
	for name, err := range map[string]error{
		"ReadPlanFile":   func() error { _, err := ReadPlanFile(missing, nil); return err }(),
		"ReadPrivateKey": func() error { _, err := ReadPrivateKey(missing); return err }(),
		"ReadPublicKey":  func() error { _, err := ReadPublicKey(missing); return err }(),
	} {
		if !IsUsage(err) {
			t.Errorf("%s of a missing file: %v, want a usage error", name, err)
		}
	}
	if k, err := LoadSignKey(""); k != nil || err != nil {
		t.Errorf("LoadSignKey(\"\") = %v, %v", k, err)
	}
	ps, err := ParsePlatforms([]string{"linux/arm64/v8"})
	if err != nil || ps[0].Variant != "v8" {
		t.Errorf("ParsePlatforms = %v, %v", ps, err)
	}
	if _, err := ParsePlatforms([]string{"linux"}); !IsUsage(err) {
		t.Errorf("ParsePlatforms(linux): %v", err)
	}
}

func TestPulledArtifactWriteTable(t *testing.T) {
	p := &PulledArtifact{Files: []string{"a.yaml", "b/c.yaml"}, Dir: "out", pinned: "r.example/x:1@sha256:ab"}
	var b strings.Builder
	if err := p.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	if want := "a.yaml\nb/c.yaml\npulled r.example/x:1@sha256:ab into out: 2 files\n"; b.String() != want {
		t.Errorf("WriteTable = %q, want %q", b.String(), want)
	}
}

func TestLocalizedWriteTable(t *testing.T) {
	l := &Localized{Name: "app:1 resource m", Result: &localize.Result{Changed: []string{"d.yaml"},
		Changes: []localize.Change{{Old: "a", New: "b"}}, Coverage: localize.Coverage{Checked: 3}},
		Pushed: &Published{Reference: "r/x:1@sha256:ab"}}
	var b strings.Builder
	if err := l.WriteTable(&b, "out"); err != nil {
		t.Fatal(err)
	}
	want := "localized app:1 resource m: 1 field in 1 file rewritten; 3 image fields checked, all name copies\nwritten to out\npushed r/x:1@sha256:ab\n"
	if b.String() != want {
		t.Errorf("WriteTable =\n%s\nwant\n%s", b.String(), want)
	}
}

func TestReadGates(t *testing.T) {
	o, err := ReadGates(nil, nil, nil, []string{"linux/amd64"})
	if err != nil || len(o.Platforms) != 1 || o.Verify != nil || o.VerifyImage != nil {
		t.Errorf("ReadGates = %+v, %v", o, err)
	}
	if _, err := ReadGates([]string{"acme"}, nil, nil, nil); !IsUsage(err) {
		t.Errorf("a signature without its key: %v", err)
	}
}

func TestLocalizedSummary(t *testing.T) {
	l := &Localized{Result: &localize.Result{Changed: []string{"a.yaml"}}, Pushed: &Published{Reference: "r/x:1@sha256:ab"}}
	b, err := json.Marshal(l.Summary())
	if err != nil || !strings.Contains(string(b), `"changed":["a.yaml"]`) || !strings.Contains(string(b), `"pushed":{"reference":"r/x:1@sha256:ab"`) || strings.Contains(string(b), `"chart"`) {
		t.Errorf("Summary as JSON: %s, %v", b, err)
	}
}
