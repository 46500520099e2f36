package cli

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ferry-oci/ferry/release"
)

// ServeShort is serve's one-line help, here and in ferry-serve.
const ServeShort = "Run an OCI registry (CNCF distribution) for bastion hosts, demos and tests"

// serveProgram is the program that serves (cmd/ferry-serve). The registry,
// CNCF distribution with its storage drivers, is kept out of ferry: linked
// in, it made ferry's binary 32 MB larger, and every command of ferry took
// about 40 ms and 16 MiB more to start (docs/benchmarks.md, "The registry in a
// program of its own").
const serveProgram = "ferry-serve"

// newServeCmd is `ferry serve`: it runs ferry-serve with the same
// arguments in ferry's place, so that its flags, help, exit code and
// signals are ferry-serve's own.
func newServeCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:                "serve",
		Short:              ServeShort,
		DisableFlagParsing: true, // ferry-serve parses them
		RunE: func(_ *cobra.Command, args []string) error {
			return runServe(args)
		},
		ValidArgsFunction: completeServe,
	}
	cmd.SetHelpFunc(func(*cobra.Command, []string) {
		if err := runServe([]string{"--help"}); err != nil {
			report(g.stderr, err, false, false)
		}
	})
	return cmd
}

// runServe runs ferry-serve with args in ferry's place (execServe).
func runServe(args []string) error {
	p, err := findServe()
	if err != nil {
		return err
	}
	return execServe(p, args)
}

// findServe is the path of ferry-serve: beside ferry's executable (with
// symbolic links resolved), as make build, go install and a release archive
// put it, or else on $PATH.
func findServe() (string, error) {
	if self, err := os.Executable(); err == nil {
		if self, err = filepath.EvalSymlinks(self); err == nil {
			p := filepath.Join(filepath.Dir(self), serveProgram)
			if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
				return p, nil
			}
		}
	}
	p, err := exec.LookPath(serveProgram)
	if err != nil {
		return "", release.WithHint(fmt.Errorf("serve: %s is neither beside ferry's executable nor on $PATH", serveProgram),
			"ferry serve runs the registry program %s; install it beside ferry: 'make build' builds both into bin/, or 'go install github.com/ferry-oci/ferry/cmd/%s@VERSION' with ferry's VERSION", serveProgram, serveProgram)
	}
	return p, nil
}

// completeServe asks ferry-serve for the completions of serve's
// arguments, in cobra's completion protocol, less the global flags, which
// cobra completes itself.
func completeServe(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	p, err := findServe()
	if err != nil {
		return nil, cobra.ShellCompDirectiveError
	}
	var out bytes.Buffer
	child := exec.Command(p, append(append([]string{cobra.ShellCompRequestCmd}, args...), toComplete)...)
	child.Stdout = &out
	if err := child.Run(); err != nil {
		return nil, cobra.ShellCompDirectiveError
	}
	lines := strings.Split(strings.TrimRight(out.String(), "\n"), "\n")
	last := lines[len(lines)-1]
	d, err := strconv.Atoi(strings.TrimPrefix(last, ":"))
	if !strings.HasPrefix(last, ":") || err != nil {
		return nil, cobra.ShellCompDirectiveError
	}
	var comps []string
	for _, c := range lines[:len(lines)-1] {
		name, _, _ := strings.Cut(c, "\t")
		if f := cmd.InheritedFlags().Lookup(strings.TrimLeft(name, "-")); f == nil || !strings.HasPrefix(name, "--") {
			comps = append(comps, c)
		}
	}
	return comps, cobra.ShellCompDirective(d)
}
