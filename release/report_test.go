package release_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/ferry-oci/ferry/release"
	"github.com/ferry-oci/ferry/transfer"
)

func TestComparison(t *testing.T) {
	a, b := v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("a", 64)}, v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("b", 64)}
	p := release.Promoted{Tags: []transfer.TagCheck{
		{Repo: "reg.local/air/app", Tag: "1.0", Planned: a},           // not in the target yet
		{Repo: "reg.local/air/app", Tag: "1.1", Planned: a, Found: b}, // drifted
		{Repo: "reg.local/air/ocm", Tag: "2.0", Planned: b, Found: a}, // drifted
	}}
	c := p.Comparison()
	if c.Checked != 3 || c.Absent != 1 || len(c.Drifted) != 2 {
		t.Fatalf("comparison = %+v, want 3 checked, 1 absent, 2 drifted", c)
	}
	if err := c.Err(); !errors.Is(err, transfer.ErrDrift) {
		t.Errorf("Err() = %v, want transfer.ErrDrift", err)
	}
	var out bytes.Buffer
	if err := c.WriteTable(&out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"reg.local/air/app:1.1  " + b.String() + "  " + a.String(), "3 tags compared: 0 in sync, 1 not in the target yet, 2 drifted"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
	if err := (release.Promoted{Tags: p.Tags[:1]}).Comparison().Err(); err != nil {
		t.Errorf("nothing drifted, Err() = %v", err)
	}
}

func TestNotes(t *testing.T) {
	a, b := v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("a", 64)}, v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("b", 64)}
	p := release.Promoted{
		Drift: []transfer.TagCheck{
			{Repo: "reg.local/air/app", Tag: "1.0", Planned: a, Found: b, Action: "skip"},
			{Repo: "reg.local/air/app", Tag: "1.1", Planned: a, Found: b, Action: "overwrite", Backup: "1.1-old"},
		},
		MirrorFiles: []string{"out/hosts.toml", "out/registries.conf"}, MirrorSkipped: []string{"idms: no mapping"},
	}
	want := []string{
		"note: reg.local/air/app:1.0 holds " + b.String() + ", not " + a.String() + ": left as it is (--skip-existing)",
		"note: reg.local/air/app:1.1 holds " + b.String() + ": moved to " + a.String() + " (--overwrite), the old content kept as reg.local/air/app:1.1-old",
		"wrote mirror configuration: out/hosts.toml, out/registries.conf",
		"note: mirror configuration left out: idms: no mapping",
	}
	if got := p.Notes(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("notes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
