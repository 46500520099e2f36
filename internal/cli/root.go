package cli

import (
	"context"
	"io"
	"log"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/oci/remote"
	"github.com/ferry-oci/ferry/release"
)

// globals are the flags every command shares.
type globals struct {
	output     string // table, yaml or json
	verbosity  int    // -v count
	noProgress bool
	registry   registryFlags
	lock       lockFlags

	semver    string // --semver, on the commands that expand references (see selection)
	selMu     sync.Mutex
	selected  []component.Selection // the versions constraints selected, for the report
	bomFormat string                // --bom-format: "ferry" or "cyclonedx"

	stdout, stderr io.Writer

	logOnce sync.Once
	log     *slog.Logger

	storeMu sync.Mutex
	store   *remote.Store // one per run: see remoteStore
}

// Env is what a command that a program adds to ferry's root (see Command)
// shares with ferry's own commands.
type Env struct {
	Stdout, Stderr io.Writer
	Verbosity      func() int // the -v count, once the flags are parsed
}

// A Command makes a command for ferry's root. A command of the same name
// takes the place of ferry's own: cmd/ferry-serve adds the real serve this
// way, so that ferry itself links no registry (see newServeCmd).
type Command func(Env) *cobra.Command

// Main is a program's main: it runs Execute with args on the process's
// standard output and error, logging through StdLog, until SIGINT or
// SIGTERM cancels it, and returns the exit code.
func Main(args []string, more ...Command) int {
	log.SetFlags(0)
	log.SetOutput(StdLog(os.Stderr))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return Execute(ctx, args, os.Stdout, os.Stderr, more...)
}

// Execute runs the ferry command line with args and returns the exit code.
// more adds commands to ferry's, or replaces those of the same name.
func Execute(ctx context.Context, args []string, stdout, stderr io.Writer, more ...Command) int {
	g := &globals{stdout: stdout, stderr: stderr}
	root := newRoot(g, more...)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	cmd, err := root.ExecuteContextC(ctx)
	return report(stderr, err, ctx.Err() != nil, cmd != nil && resumable[cmd.CommandPath()])
}

// rootLong is ferry's own help.
const rootLong = `ferry copies OCM component versions, with every image, chart and blob they name,
between registries and offline bundles, and rewrites their Kubernetes manifests
to name the private copies.

  bastion host:   ferry transfer SRC DST
  offline:        ferry bundle create SRC -o release.tar   (outside)
                  ferry bundle import release.tar DST      (inside)
  GitOps:         ferry localize REF --resource manifests --push oci://DST/app:1.0`

func newRoot(g *globals, more ...Command) *cobra.Command {
	root := &cobra.Command{
		Use:               "ferry",
		Short:             "Carry Kubernetes software across an air gap",
		Long:              rootLong,
		SilenceUsage:      true,
		SilenceErrors:     true,
		DisableAutoGenTag: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return g.validate()
		},
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageErr(err) })
	pf := root.PersistentFlags()
	pf.StringVarP(&g.output, "output", "o", "table", "output format: table, yaml or json")
	pf.CountVarP(&g.verbosity, "verbose", "v", "log more: -v for progress details, -vv for every request")
	pf.BoolVar(&g.noProgress, "no-progress", false, "print no progress bars, only plain log lines")
	g.registry.addFlags(pf)
	_ = root.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"table", "yaml", "json"}, cobra.ShellCompDirectiveNoFileComp))

	cmds := []*cobra.Command{newTransferCmd(g), newBundleCmd(g), newInventoryCmd(g), newComponentCmd(g), newLocalizeCmd(g),
		newMirrorConfigCmd(g), newArtifactCmd(g), newServeCmd(g), newVersionCmd(g)}
	env := Env{Stdout: g.stdout, Stderr: g.stderr, Verbosity: func() int { return g.verbosity }}
	for _, m := range more {
		c := m(env)
		if i := slices.IndexFunc(cmds, func(o *cobra.Command) bool { return o.Name() == c.Name() }); i >= 0 {
			c.GroupID = cmds[i].GroupID
			cmds[i] = c
		} else {
			cmds = append(cmds, c)
		}
	}
	addCommands(root, cmds...)
	return root
}

// addCommands adds ferry's commands in their groups: those that move
// releases, and the others.
func addCommands(root *cobra.Command, cmds ...*cobra.Command) {
	root.AddGroup(&cobra.Group{ID: "main", Title: "Moving releases:"}, &cobra.Group{ID: "other", Title: "Other commands:"})
	for _, c := range cmds {
		if c.GroupID == "" {
			c.GroupID = "other"
		}
		root.AddCommand(c)
	}
	root.SetHelpCommandGroupID("other")
	root.SetCompletionCommandGroupID("other")
}

func (g *globals) validate() error {
	switch g.output {
	case "table", "yaml", "json":
	default:
		err := usageErr(errorf("--output %q: want table, yaml or json", g.output))
		if strings.ContainsAny(g.output, "/.") {
			return release.WithHint(err, "-o is the output format; artifact pull, localize and component download name their directory or file with -O")
		}
		return err
	}
	return g.registry.validate()
}
