package depcheck

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// A rule says which packages must not import which. Package patterns are
// the module's packages, relative to the module path ("transfer",
// "oci/..." for oci and everything under it, "..." for every package);
// import patterns are those or full import paths of other modules
// ("github.com/spf13/cobra/..."), told apart by a dot in the first element.
type rule struct {
	name   string
	from   []string // the packages the rule is about
	except []string // packages of from it does not apply to
	deny   []string // what they must not import
	allow  []string // imports of deny they may have
	// transitive: deny anywhere in the package's dependencies, not only in
	// its own imports.
	transitive bool
	// tests: the imports of the package's tests count too.
	tests bool
	// pending: the rule does not hold yet, for the reason given; its
	// violations are logged, not failed, and the test fails once it holds,
	// so that the mark is removed.
	pending string
}

var ocm = []string{"component/...", "resource/...", "bom/..."}

var rules = []rule{
	{
		// OCM lives in ocmtransfer, above the engine; CTFs (and the artifact
		// sets in them) and Helm repositories are OCM's media.
		name: "the transfer engine knows no OCM", from: []string{"transfer"},
		deny: append([]string{"helmrepo/...", "ctf/..."}, ocm...), transitive: true,
	},
	{
		name: "stores never depend on the engine or its callers", from: []string{"oci/...", "ctf/...", "bundle/..."},
		deny: []string{"transfer/...", "ocmtransfer/...", "release/...", "repository/..."}, transitive: true,
	},
	{
		name: "the engine depends on none of its callers", from: []string{"transfer/..."},
		deny: []string{"ocmtransfer/...", "release/...", "repository/...", "localize/...", "gitops/..."}, transitive: true,
	},
	{
		name: "the OCM transfer depends on none of its callers", from: []string{"ocmtransfer/..."},
		deny: []string{"release/...", "repository/...", "internal/cli/..."}, transitive: true,
	},
	{
		name: "oci is the seam: it depends on no other ferry package", from: []string{"oci/..."},
		deny: []string{"..."}, allow: []string{"oci/..."}, transitive: true,
	},
	{
		// component for the one Format enum only, which lives there; it
		// depends on no ferry package itself. internal/lockfile is the
		// writers' OS file lock, which depends on nothing.
		name: "ctf is a medium: it depends on oci (and component's Format) only", from: []string{"ctf/..."},
		deny: []string{"..."}, allow: []string{"oci/...", "ctf/...", "component", "internal/lockfile"}, transitive: true,
	},
	{
		name: "component is vocabulary: it depends on no other ferry package", from: []string{"component"},
		deny: []string{"..."}, transitive: true,
	},
	{
		// localize/helm and localize/kustomize render with Helm's and
		// kustomize's libraries and prove with localize: nothing else.
		name: "localize depends on no ferry package", from: []string{"localize/..."},
		deny: []string{"..."}, allow: []string{"localize/..."}, transitive: true,
	},
	{
		name: "no library depends on the CLI", from: []string{"..."},
		except: []string{"internal/cli/...", "cmd/...", "hack/...", "e2e/..."},
		deny:   []string{"internal/cli/..."}, transitive: true,
	},
	{
		name: "nothing imports a command", from: []string{"..."},
		deny: []string{"cmd/..."}, tests: true,
	},
	{
		// refdoc writes the command reference from the cobra command tree;
		// internal/cli/servecmd is the command of ferry-serve.
		name: "only the CLI (and its reference generator) imports cobra and pflag", from: []string{"..."},
		except: []string{"internal/cli/...", "internal/refdoc"},
		deny:   []string{"github.com/spf13/cobra/...", "github.com/spf13/pflag/..."},
		tests:  true,
	},
	{
		// internal/progress draws the line; e2e drives the binary in a terminal.
		name: "only the CLI draws progress lines", from: []string{"..."},
		except: []string{"internal/cli"},
		deny:   []string{"internal/progress"},
		tests:  true,
	},
	{
		name: "only serve and registrytest import distribution", from: []string{"..."},
		except: []string{"internal/serve/...", "internal/registrytest"},
		deny:   []string{"github.com/distribution/distribution/..."},
	},
}

// pkg is what go list tells of one package.
type pkg struct {
	ImportPath   string
	Imports      []string
	Deps         []string
	TestImports  []string
	XTestImports []string
	Error        *struct{ Err string }
}

func TestImportRules(t *testing.T) {
	root, module := moduleRoot(t)
	watchSources(t, root)
	pkgs := listPackages(t, root)
	for _, r := range rules {
		t.Run(r.name, func(t *testing.T) {
			var violations []string
			matched := 0
			for _, p := range pkgs {
				rel, ok := relative(module, p.ImportPath)
				if !ok || !matchAny(r.from, rel) || matchAny(r.except, rel) {
					continue
				}
				matched++
				imports := p.Imports
				if r.transitive {
					imports = p.Deps
				}
				if r.tests {
					imports = slices.Concat(imports, p.TestImports, p.XTestImports)
				}
				for _, imp := range imports {
					if denied(module, r.deny, imp) && !denied(module, r.allow, imp) && imp != p.ImportPath {
						violations = append(violations, p.ImportPath+" imports "+imp)
					}
				}
			}
			if matched == 0 {
				t.Fatalf("the rule is about %v, and the module has no such package: fix the rule", r.from)
			}
			slices.Sort(violations)
			violations = slices.Compact(violations)
			switch {
			case r.pending != "" && len(violations) == 0:
				t.Errorf("the rule holds now: remove its pending mark (%s)", r.pending)
			case r.pending != "":
				t.Logf("pending (%s), %d violations:\n\t%s", r.pending, len(violations), strings.Join(violations, "\n\t"))
			case len(violations) > 0:
				t.Errorf("%d violations:\n\t%s", len(violations), strings.Join(violations, "\n\t"))
			}
		})
	}
}

// TestRulesCatch checks the matching on imports the module does not have.
func TestRulesCatch(t *testing.T) {
	const m = "example.com/mod"
	for _, c := range []struct {
		deny []string
		imp  string
		want bool
	}{
		{[]string{"component/..."}, m + "/component", true},
		{[]string{"component/..."}, m + "/component/ocireg", true},
		{[]string{"component/..."}, m + "/componentx", false},
		{[]string{"transfer"}, m + "/transfer/ocm", false},
		{[]string{"..."}, m + "/oci", true},
		{[]string{"..."}, "github.com/google/go-containerregistry/pkg/v1", false},
		{[]string{"github.com/spf13/cobra/..."}, "github.com/spf13/cobra", true},
		{[]string{"github.com/spf13/cobra/..."}, "github.com/spf13/cobra/doc", true},
		{[]string{"github.com/spf13/cobra/..."}, "github.com/spf13/cobrax", false},
		{[]string{"cmd/..."}, "cmd/go", false}, // the standard library's, not ours
	} {
		if got := denied(m, c.deny, c.imp); got != c.want {
			t.Errorf("denied(%v, %s) = %v, want %v", c.deny, c.imp, got, c.want)
		}
	}
}

// denied reports whether import path imp matches one of the patterns.
func denied(module string, patterns []string, imp string) bool {
	for _, p := range patterns {
		if external(p) {
			if match(p, imp) {
				return true
			}
			continue
		}
		if rel, ok := relative(module, imp); ok && match(p, rel) {
			return true
		}
	}
	return false
}

func external(pattern string) bool {
	first, _, _ := strings.Cut(pattern, "/")
	return strings.Contains(first, ".") && first != "..."
}

// relative returns path relative to the module path ("" for the root).
func relative(module, path string) (string, bool) {
	if path == module {
		return "", true
	}
	rel, ok := strings.CutPrefix(path, module+"/")
	return rel, ok
}

func matchAny(patterns []string, rel string) bool {
	for _, p := range patterns {
		if match(p, rel) {
			return true
		}
	}
	return false
}

// match: "x/..." matches x and everything under it, "..." everything.
func match(pattern, path string) bool {
	if pattern == "..." {
		return true
	}
	if base, ok := strings.CutSuffix(pattern, "/..."); ok {
		return path == base || strings.HasPrefix(path, base+"/")
	}
	return path == pattern
}

// watchSources looks at every directory and Go file of the module, so that
// go test's cache, which records what a test opens and stats, reruns the
// test when an import changes (go list, which reads them, is another
// process).
func watchSources(t *testing.T, root string) {
	t.Helper()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() && path != root && (name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
			return filepath.SkipDir
		}
		if d.IsDir() || strings.HasSuffix(name, ".go") || name == "go.mod" {
			_, err = os.Stat(path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// moduleRoot returns the directory of the module's go.mod and its path.
func moduleRoot(t *testing.T) (string, string) {
	t.Helper()
	out := goCmd(t, "", "env", "GOMOD")
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == "/dev/null" {
		t.Fatal("go env GOMOD: not inside a module")
	}
	root := filepath.Dir(gomod)
	return root, strings.TrimSpace(string(goCmd(t, root, "list", "-m")))
}

func listPackages(t *testing.T, root string) []pkg {
	t.Helper()
	out := goCmd(t, root, "list", "-e", "-json=ImportPath,Imports,Deps,TestImports,XTestImports,Error", "./...")
	var pkgs []pkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkg
		err := dec.Decode(&p)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("reading go list: %v", err)
		}
		if p.Error != nil {
			t.Fatalf("go list: %s: %s", p.ImportPath, p.Error.Err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) == 0 {
		t.Fatal("go list found no packages")
	}
	return pkgs
}

func goCmd(t *testing.T, dir string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	return out
}
