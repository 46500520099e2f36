package cli

import (
	"bytes"
	b64 "encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferry-oci/ferry/internal/registrytest"
)

// TestSecretsNeverLeak runs every command that talks to a registry with
// credentials, at the most verbose log level, and checks that neither the
// password nor its encoded forms appear in stdout, stderr, the reports or
// the bundle.
func TestSecretsNeverLeak(t *testing.T) {
	ocm := filepath.Join(sharedDir(t), "testdata", "ocm")
	const user, password, token = "ci-robot", "Tr0ub4dor-and-3-secret", "tok3n-9f8e7d6c5b4a"
	reg := registrytest.New(t, registrytest.WithTLS(), registrytest.WithAuth(user, password))
	cfg := reg.DockerConfigFile()
	work := t.TempDir()
	auth := []string{"--registry-config", cfg, "--ca-file", reg.CAFile, "-vv"}
	base := reg.Host + "/air"
	cv := base + "//example.com/podinfo:6.3.5"
	files := map[string]string{"report": filepath.Join(work, "report.json"), "bundle": filepath.Join(work, "b.tar"),
		"inventory": filepath.Join(work, "inv.json"), "download": filepath.Join(work, "config.yaml")}
	commands := [][]string{
		{"transfer", "-r", filepath.Join(ocm, "ctf-copied"), base, "--report", files["report"]},
		{"component", "get", base + "//example.com/podinfo"},
		{"component", "resources", cv, "-o", "json"},
		{"component", "download", cv, "config", "-O", files["download"]},
		{"artifact", "copy", reg.Host + "/air/stefanprodan/podinfo:6.3.5", reg.Host + "/copy/podinfo:6.3.5"},
		{"localize", cv, "--resource", "deployment", "--push", "oci://" + reg.Host + "/deploy/podinfo:6.3.5"},
		{"artifact", "pull", "oci://" + reg.Host + "/deploy/podinfo:6.3.5", "-O", filepath.Join(work, "pulled")},
		{"bundle", "create", cv, "-o", files["bundle"]},
		{"bundle", "import", files["bundle"], reg.Host + "/imported"},
		{"inventory", cv, "-o", files["inventory"]},
		// A registry token, and a wrong password, logged at the same level
		// (both refused by this registry).
		{"component", "get", cv, "--registry-config", writeTokenConfig(t, reg.Host, token), "--ca-file", reg.CAFile, "-vv"},
		{"component", "get", cv, "--registry-config", writeBadConfig(t, reg.Host, user), "--ca-file", reg.CAFile, "-vv"},
	}
	const failing = 2 // the last commands fail on purpose
	secrets := []string{password, token, b64.StdEncoding.EncodeToString([]byte(user + ":" + password)), b64.StdEncoding.EncodeToString([]byte(password))}
	for i, args := range commands {
		ok := i < len(commands)-failing
		if ok {
			args = append(args, auth...)
		}
		code, stdout, stderr := run(t, args...)
		if ok && code != 0 || !ok && code == 0 {
			t.Fatalf("ferry %s: exit %d\n%s", strings.Join(args, " "), code, stderr)
		}
		if !strings.Contains(stderr, "level=DEBUG") && ok {
			t.Errorf("ferry %s logged no debug lines: the test would not see a leak", args[0])
		}
		for _, s := range secrets {
			if strings.Contains(stdout, s) || strings.Contains(stderr, s) {
				t.Errorf("ferry %s printed a secret", strings.Join(args, " "))
			}
		}
	}
	for name, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, s := range secrets {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("the %s file holds a secret", name)
			}
		}
	}
}

func writeBadConfig(t *testing.T, host, user string) string {
	p := filepath.Join(t.TempDir(), "config.json")
	writeDockerConfig(t, p, host, user, "Tr0ub4dor-and-3-secret-but-wrong")
	return p
}

func writeTokenConfig(t *testing.T, host, token string) string {
	p := filepath.Join(t.TempDir(), "config.json")
	b := []byte(`{"auths":{"` + host + `":{"registrytoken":"` + token + `"}}}`)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
