package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferry-oci/ferry/internal/registrytest"
)

// TestVerifySignatureFixtures runs the gate on what ocm signed
// (ctf-signed: podinfo 6.3.5 and app 1.0.0 signed "acme", 6.3.6 not):
// acme.pub passes, other.pub and the unsigned version are refused with a
// message naming the version, the signature and the key, and nothing is
// written. Images stay by reference: the fixtures name a registry that is
// gone.
func TestVerifySignatureFixtures(t *testing.T) {
	ocm := filepath.Join(sharedDir(t), "testdata", "ocm")
	signed := filepath.Join(ocm, "ctf-signed")
	acme, other := filepath.Join(ocm, "signing", "acme.pub"), filepath.Join(ocm, "signing", "other.pub")
	reg := registrytest.New(t)

	out := mustRun(t, "transfer", "--by-reference", "-r", signed+"//example.com/app:1.0.0", reg.Host+"/air",
		"--verify-signature", "acme", "--public-key", acme, "-o", "json")
	var rep struct {
		BOM struct {
			Components []struct {
				Name, VerifiedBy string
				Signatures       []struct {
					Name     string
					Verified bool
				}
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(rep.BOM.Components) != 2 {
		t.Fatalf("the report's BOM lists %d versions, want app and podinfo:\n%s", len(rep.BOM.Components), out)
	}
	for _, c := range rep.BOM.Components {
		if c.VerifiedBy == "" {
			t.Errorf("%s: the BOM does not say how it was verified", c.Name)
		}
	}

	for _, c := range []struct {
		ref, key string
		want     []string
	}{
		{"example.com/podinfo:6.3.5", other, []string{"signature invalid", `"acme"`, "other.pub"}},
		{"example.com/podinfo:6.3.6", acme, []string{"example.com/podinfo:6.3.6", `no signature "acme"`, "it is not signed"}},
	} {
		before := reg.Requests().Count("PUT", "")
		code, stdout, stderr := run(t, "transfer", "--by-reference", signed+"//"+c.ref, reg.Host+"/refused",
			"--verify-signature", "acme", "--public-key", c.key)
		if code != 1 {
			t.Fatalf("%s with %s: exit %d, want 1\n%s%s", c.ref, c.key, code, stdout, stderr)
		}
		for _, w := range append(c.want, "hint:") {
			if !strings.Contains(stderr, w) {
				t.Errorf("%s with %s: the message lacks %q:\n%s", c.ref, c.key, w, stderr)
			}
		}
		if n := reg.Requests().Count("PUT", "") - before; n != 0 {
			t.Errorf("%s with %s: %d PUT requests reached the target", c.ref, c.key, n)
		}
	}

	// Flags that do not pair are a usage error.
	if code, _, stderr := run(t, "transfer", signed, reg.Host+"/x", "--verify-signature", "acme"); code != 2 {
		t.Errorf("--verify-signature without --public-key: exit %d, want 2\n%s", code, stderr)
	}

	// An import checks every version the archive holds: the unsigned 6.3.6
	// of ctf-signed is refused; a CTF of app with its (signed) reference
	// imports.
	code, _, stderr := run(t, "bundle", "import", signed, reg.Host+"/imported", "--verify-signature", "acme", "--public-key", acme)
	if code != 1 || !strings.Contains(stderr, "example.com/podinfo:6.3.6") {
		t.Errorf("importing ctf-signed: exit %d, want 1 naming 6.3.6\n%s", code, stderr)
	}
	ctfDir := filepath.Join(t.TempDir(), "app-ctf")
	mustRun(t, "transfer", "--by-reference", "-r", signed+"//example.com/app:1.0.0", ctfDir)
	mustRun(t, "bundle", "import", ctfDir, reg.Host+"/imported", "--verify-signature", "acme", "--public-key", acme)
	mustRun(t, "component", "verify", reg.Host+"/imported//example.com/app:1.0.0", "--signature", "acme", "--public-key", acme, "--local-only")
}
