package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/crypto/bcrypt"

	"github.com/ferry-oci/ferry/internal/registrytest"
	"github.com/ferry-oci/ferry/internal/serve"
	_ "github.com/ferry-oci/ferry/internal/serve/gcs" // ferry-serve has it: serve.Drivers lists what it has
	"github.com/ferry-oci/ferry/oci"
	"github.com/ferry-oci/ferry/oci/remote"
)

// TestFirstHour replays, against the real binary, each thing issue 19 ("a
// newcomer's first hour") found failing; the progress line is replayed in a
// pseudo-terminal by TestProgressInATerminal and TestProgressWithoutEscapes.
func TestFirstHour(t *testing.T) {
	w := newWorld(t)
	src := "http://" + w.public.Host + "/releases//" + release
	priv := "http://" + w.private.Host
	w.run("transfer", src, priv+"/air")
	var outputs []string // every table printed, for the plural check at the end
	run := func(args ...string) string {
		t.Helper()
		out := w.run(args...)
		outputs = append(outputs, out)
		return out
	}

	t.Run("docs: artifact pull takes -O, and -o ./check says so", func(t *testing.T) {
		run("localize", priv+"/air//"+release, "--resource", "manifests", "--push", "oci://"+w.private.Host+"/air/deploy:6.3.6")
		_, errOut, code := w.exec("artifact", "pull", "oci://"+w.private.Host+"/air/deploy:6.3.6", "-o", "./check")
		if code != 2 || !strings.Contains(errOut, "-O") {
			t.Errorf("-o ./check: exit %d, %s", code, errOut)
		}
		run("artifact", "pull", "oci://"+w.private.Host+"/air/deploy:6.3.6", "-O", "./check")
		if _, err := os.Stat(filepath.Join(w.work, "check", "deployment.yaml")); err != nil {
			t.Error(err)
		}
	})

	t.Run("docs: localize --push -o json gives .pushed.digest", func(t *testing.T) {
		out := w.run("localize", priv+"/air//"+release, "--resource", "manifests", "--push", "oci://"+w.private.Host+"/air/deploy:6.3.6", "-o", "json")
		var v struct {
			Pushed struct{ Digest string } `json:"pushed"`
		}
		if err := json.Unmarshal([]byte(out), &v); err != nil || !strings.HasPrefix(v.Pushed.Digest, "sha256:") {
			t.Errorf(".pushed.digest = %q (%v) in %s", v.Pushed.Digest, err, out)
		}
		doc := readDoc(t, "gitops.md")
		if !strings.Contains(doc, "jq -r .pushed.digest") || strings.Contains(doc, "-o ./check") {
			t.Error("docs/gitops.md still reads the digest from the wrong key or pulls with -o")
		}
	})

	t.Run("docs: Argo CD deploys subfolders", func(t *testing.T) {
		if !regexp.MustCompile(`directory:\s*\n\s*recurse: true`).MatchString(readDoc(t, "gitops.md")) {
			t.Error("the Argo CD Application in docs/gitops.md lacks directory.recurse")
		}
	})

	t.Run("docs: source and revision only with --source and --revision", func(t *testing.T) {
		dir := filepath.Join(w.work, "tree")
		os.MkdirAll(dir, 0o755)
		os.WriteFile(filepath.Join(dir, "cm.yaml"), []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n"), 0o644)
		plain := annotations(t, w, w.private.Host, "air/ann:plain", run, "artifact", "push", dir, "oci://"+w.private.Host+"/air/ann:plain")
		flagged := annotations(t, w, w.private.Host, "air/ann:flagged", run, "artifact", "push", dir, "oci://"+w.private.Host+"/air/ann:flagged",
			"--source", "https://example.com/repo", "--revision", "v1")
		if _, ok := plain["org.opencontainers.image.source"]; ok || plain["org.opencontainers.image.created"] == "" {
			t.Errorf("without flags: %v", plain)
		}
		if flagged["org.opencontainers.image.source"] != "https://example.com/repo" || flagged["org.opencontainers.image.revision"] != "v1" {
			t.Errorf("with flags: %v", flagged)
		}
		if !strings.Contains(readDoc(t, "gitops.md"), "from `artifact push`, only with `--source URL` and `--revision REV`") {
			t.Error("the annotation table of docs/gitops.md does not say when source is written")
		}
	})

	t.Run("docs: serve names the drivers it has", func(t *testing.T) {
		help := strings.Join(strings.Fields(run("serve", "--help")), " ")
		if strings.Contains(help, "any storage") || !strings.Contains(help, strings.Join(serve.Drivers(), ", ")) {
			t.Errorf("serve --help does not list the drivers this build has (%v): %s", serve.Drivers(), help)
		}
	})

	t.Run("serve: ferry-serve answers help, completion and errors", func(t *testing.T) {
		if help := w.run("help", "serve"); !strings.Contains(help, "--htpasswd") || !strings.Contains(help, "ferry serve [flags]") {
			t.Errorf("ferry help serve: %s", help)
		}
		out, err := exec.Command(w.ferry, "__complete", "serve", "--r").Output() // as a shell asks: nothing appended
		if err != nil {
			t.Fatal(err)
		}
		comp := string(out)
		for _, flag := range []string{"--root", "--read-only", "--retries"} {
			if n := strings.Count(comp, flag+"\t"); n != 1 {
				t.Errorf("completion of serve --r lists %s %d times: %q", flag, n, comp)
			}
		}
		if _, errOut, code := w.exec("-v", "serve", "--tls-cert", "x"); code != 2 || !strings.HasPrefix(errOut, "ferry: ") {
			t.Errorf("serve --tls-cert without --tls-key: exit %d, %q", code, errOut)
		}
	})

	t.Run("make demo says what it builds first", func(t *testing.T) {
		cmd := exec.Command("make", "--no-print-directory", "-n", "demo")
		cmd.Dir = ".."
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Skipf("make: %v", err)
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		if !strings.Contains(lines[0], "demo: building ferry first") {
			t.Errorf("make -n demo starts with %q", lines[0])
		}
		if !strings.Contains(string(out), "go build -v") {
			t.Errorf("make build does not show Go's progress:\n%s", out)
		}
	})

	t.Run("schemes: http:// is plain HTTP only, https:// never falls back", func(t *testing.T) {
		_, errOut, code := w.exec("component", "get", src, "-vv")
		if code != 0 || strings.Contains(errOut, "https://") {
			t.Errorf("http:// tried https or failed: exit %d\n%s", code, errOut)
		}
		_, errOut, code = w.exec("component", "get", "https://"+w.public.Host+"/releases//"+release)
		if code != 1 || !strings.Contains(errOut, "name it with http://") {
			t.Errorf("https:// to a plain-HTTP registry: exit %d\n%s", code, errOut)
		}
		tlsReg := registrytest.New(t, registrytest.WithTLS())
		_, errOut, code = w.exec("component", "get", "http://"+tlsReg.Host+"/releases//"+release, "--ca-file", tlsReg.CAFile)
		if code == 0 || strings.Contains(errOut, "https://") {
			t.Errorf("http:// to a TLS registry: exit %d\n%s", code, errOut)
		}
	})

	t.Run("serve --htpasswd: transfers with credentials", func(t *testing.T) {
		hash, _ := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
		file := filepath.Join(w.work, "htpasswd")
		os.WriteFile(file, []byte("alice:"+string(hash)+"\n"), 0o600)
		host := startServe(t, w, "--htpasswd", file)
		_, errOut, code := w.exec("transfer", src, "http://"+host+"/auth")
		if code != 1 || !strings.Contains(errOut, "docker login") {
			t.Errorf("without credentials: exit %d\n%s", code, errOut)
		}
		cfg := filepath.Join(w.work, "docker.json")
		os.WriteFile(cfg, []byte(`{"auths":{"`+host+`":{"auth":"YWxpY2U6czNjcmV0"}}}`), 0o600)
		run("transfer", src, "http://"+host+"/auth", "--registry-config", cfg)
		// The credential cache itself is tested in internal/serve; its figure is `make bench`'s.
	})

	t.Run("errors: a misspelt component or version lists the nearest names", func(t *testing.T) {
		_, errOut, code := w.exec("transfer", "http://"+w.public.Host+"/releases//example.com/podinfox:6.3.6", priv+"/air")
		if code != 1 || strings.Contains(errOut, "answered 404") || !strings.Contains(errOut, "nearest names there: example.com/podinfo") ||
			!strings.Contains(errOut, "hint: check the component name") {
			t.Errorf("typo in the name: exit %d\n%s", code, errOut)
		}
		_, errOut, _ = w.exec("transfer", "http://"+w.public.Host+"/releases//example.com/podinfo:6.3.7", priv+"/air")
		if !strings.Contains(errOut, "versions nearest it there: 6.3.6") {
			t.Errorf("missing version:\n%s", errOut)
		}
		_, errOut, _ = w.exec("component", "get", "http://"+w.public.Host+"/releases//example.com/podinfox")
		if strings.Contains(errOut, "no versions") || !strings.Contains(errOut, "example.com/podinfo") {
			t.Errorf("component get:\n%s", errOut)
		}
	})

	t.Run("errors: a bundle that is not there is not damaged", func(t *testing.T) {
		_, errOut, code := w.exec("bundle", "verify", "nosuch.tar")
		if code != 1 || strings.Contains(errOut, "damaged") || !strings.Contains(errOut, "there is no bundle nosuch.tar") {
			t.Errorf("exit %d\n%s", code, errOut)
		}
	})

	t.Run("errors: a wrong public key says what to check", func(t *testing.T) {
		k1, _ := writeKeyPair(t, w.work, "k1")
		_, p2 := writeKeyPair(t, w.work, "k2")
		signed := "http://" + w.private.Host + "/signed//" + release
		run("transfer", src, "http://"+w.private.Host+"/signed")
		run("component", "sign", signed, "--signature", "acme", "--private-key", k1)
		_, errOut, code := w.exec("component", "verify", signed, "--signature", "acme", "--public-key", p2)
		if code != 1 || !strings.Contains(errOut, "hint: the signature does not verify with this key") || !strings.Contains(errOut, p2) {
			t.Errorf("exit %d\n%s", code, errOut)
		}
	})

	t.Run("errors: a read-only command against a registry that is down", func(t *testing.T) {
		_, errOut, code := w.exec("component", "get", "http://127.0.0.1:1/releases//example.com/podinfo", "--retries", "1")
		if code != 1 || strings.Contains(errOut, "resume") || !strings.Contains(errOut, "127.0.0.1:1") {
			t.Errorf("exit %d\n%s", code, errOut)
		}
	})

	t.Run("errors: a differential import names every blob it lacks or says how many more", func(t *testing.T) {
		inv := filepath.Join(w.work, "inventory.json")
		run("inventory", priv+"/air//example.com/podinfo", "-o", inv)
		bundle := filepath.Join(w.work, "self.tar")
		run("bundle", "create", src, "-o", bundle, "--missing-from", inv)
		_, errOut, code := w.exec("bundle", "import", bundle, priv+"/empty")
		m := regexp.MustCompile(`lacks (\d+) blobs it left out: (.*?)(?: and (\d+) more)?: not found`).FindStringSubmatch(errOut)
		if code != 1 || m == nil {
			t.Fatalf("exit %d\n%s", code, errOut)
		}
		listed := len(strings.Split(m[2], ", "))
		more := 0
		if m[3] != "" {
			more = atoi(m[3])
		}
		if listed+more != atoi(m[1]) {
			t.Errorf("says %s, lists %d and %d more:\n%s", m[1], listed, more, errOut)
		}
	})

	t.Run("errors: component download prints its result", func(t *testing.T) {
		out := run("component", "download", src, "manifests", "-O", filepath.Join(w.work, "m.tgz"))
		if !strings.HasPrefix(out, "downloaded example.com/podinfo:6.3.6 resource manifests") {
			t.Errorf("stdout %q", out)
		}
	})

	t.Run("errors: flag files that cannot be used exit alike", func(t *testing.T) {
		_, e1, c1 := w.exec("component", "get", src, "--registry-config", "/nonexistent/config.json")
		_, e2, c2 := w.exec("component", "get", src, "--ca-file", filepath.Join(w.sample, "component-constructor.yaml"))
		if c1 != 2 || c2 != 2 || !strings.Contains(e1, "--registry-config") || !strings.Contains(e2, "--ca-file") {
			t.Errorf("--registry-config: exit %d %s--ca-file: exit %d %s", c1, e1, c2, e2)
		}
	})

	t.Run("errors: an upper-case repository says how to write it", func(t *testing.T) {
		_, errOut, code := w.exec("transfer", "http://"+w.public.Host+"/Releases//"+release, priv+"/air")
		if code == 0 || !strings.Contains(errOut, `write "releases"`) {
			t.Errorf("exit %d\n%s", code, errOut)
		}
	})

	t.Run("output: pull names the digest once", func(t *testing.T) {
		out := run("artifact", "pull", "oci://"+w.private.Host+"/air/deploy:6.3.6", "-O", filepath.Join(w.work, "p1"))
		d := regexp.MustCompile(`sha256:[0-9a-f]{64}`).FindString(out)
		out = run("artifact", "pull", "oci://"+w.private.Host+"/air/deploy@"+d, "-O", filepath.Join(w.work, "p2"))
		if strings.Count(out, d) != 1 {
			t.Errorf("%q", out)
		}
	})

	t.Run("output: create, verify and inspect count the same blobs in binary units", func(t *testing.T) {
		bundle := filepath.Join(w.work, "count.tar")
		counts := regexp.MustCompile(`(\d+) blobs? \((\d+\.\d [KMG]iB|\d+ B)\)`)
		var got []string
		for _, args := range [][]string{{"bundle", "create", src, "-o", bundle}, {"bundle", "verify", bundle}, {"bundle", "inspect", bundle}} {
			out := run(args...)
			m := counts.FindStringSubmatch(out)
			if m == nil {
				t.Fatalf("%s: no blob count in\n%s", args[1], out)
			}
			got = append(got, m[0])
			if regexp.MustCompile(`\d (kB|MB|GB)\b`).MatchString(out) {
				t.Errorf("%s: decimal units in\n%s", args[1], out)
			}
		}
		if got[0] != got[1] || got[1] != got[2] {
			t.Errorf("create, verify, inspect say %q", got)
		}
	})

	t.Run("output: the seed step prints no rate from a too-short sample", func(t *testing.T) {
		reg := registrytest.New(t)
		cmd := exec.Command("go", "run", "../hack/seed", "-registry", reg.Host, "-sample")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		if regexp.MustCompile(`\b0 MB/s|\bMB/s`).Match(out) {
			t.Errorf("seed: %s", out)
		}
	})

	t.Run("output: counts agree with their nouns", func(t *testing.T) {
		run("transfer", src, priv+"/plural") // 1 component version, …
		bad := regexp.MustCompile(`\b1 (component versions|manifests|blobs|tags|files|artifacts|images|registry requests)\b|resumed: 1 blobs`)
		for _, o := range outputs {
			if m := bad.FindString(o); m != "" {
				t.Errorf("%q in\n%s", m, o)
			}
		}
	})
}

func readDoc(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "docs", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

// annotations runs a push and returns the manifest annotations of repoTag in host.
func annotations(t *testing.T, w *world, host, repoTag string, run func(...string) string, args ...string) map[string]string {
	t.Helper()
	run(args...)
	s, err := remote.New()
	if err != nil {
		t.Fatal(err)
	}
	ref, err := oci.ParseRef(host + "/" + repoTag)
	if err != nil {
		t.Fatal(err)
	}
	d, err := s.Resolve(t.Context(), ref)
	if err != nil {
		t.Fatal(err)
	}
	b, err := oci.FetchBytes(t.Context(), s, ref.Repo(), d, 0)
	if err != nil {
		t.Fatal(err)
	}
	var m v1.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m.Annotations
}

// writeKeyPair writes an RSA key pair with openssl-free Go and returns the
// private and public key files.
func writeKeyPair(t *testing.T, dir, name string) (string, string) {
	t.Helper()
	priv, pub := filepath.Join(dir, name+".pem"), filepath.Join(dir, name+".pub")
	if err := writeRSA(priv, pub); err != nil {
		t.Fatal(err)
	}
	return priv, pub
}

// startServe runs `ferry serve` with args on a free loopback port until the
// test ends and returns its host.
func startServe(t *testing.T, w *world, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, w.ferry, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); cmd.Wait() })
	sc := bufio.NewScanner(out)
	lines := make(chan string, 1)
	go func() {
		for sc.Scan() {
			if _, addr, ok := strings.Cut(sc.Text(), "listening on http://"); ok {
				lines <- strings.Fields(addr)[0]
				return
			}
		}
	}()
	select {
	case host := <-lines:
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if resp, err := http.Get("http://" + host + "/v2/"); err == nil {
				resp.Body.Close()
				return host
			}
		}
		t.Fatalf("ferry serve on %s does not answer", host)
	case <-time.After(15 * time.Second):
		t.Fatal("ferry serve did not start")
	}
	return ""
}
