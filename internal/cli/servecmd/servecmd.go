// Package servecmd is ferry's serve command: CNCF distribution with every
// storage driver this build has (internal/serve). It lives apart from
// internal/cli so that only the program that serves, cmd/ferry-serve, links
// the registry; `ferry serve` runs that program.
package servecmd

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ferry-oci/ferry/internal/cli"
	"github.com/ferry-oci/ferry/internal/exitcode"
	"github.com/ferry-oci/ferry/internal/serve"
)

// long is serve's help, naming the storage drivers of this build.
func long() string {
	return `serve runs the CNCF distribution registry inside ferry: a private registry on a
bastion host or inside the air gap, with no other software to install.

It listens on 127.0.0.1:5000 unless told otherwise and keeps its content in
memory unless --root names a directory (created if missing), which survives
restarts. --config takes a full distribution configuration file; its storage
section picks one of the storage drivers this build has,
` + strings.Join(serve.Drivers(), ", ") + ` (s3 and s3aws are one
driver, for S3 and S3-compatible object stores). Flags
override the file's keys, except --root, which conflicts with a file (set
storage.filesystem.rootdirectory there). The registry stops cleanly on SIGINT
or SIGTERM, finishing the requests under way.

The registry is its own program, ferry-serve, installed beside ferry: it
links distribution and its storage drivers, which every other ferry command
would otherwise load at each start. ` + "`ferry serve ARGS`" + ` runs ` + "`ferry-serve ARGS`" + `.`
}

// example is serve's examples.
const example = `  # A registry whose content survives restarts
  ferry serve --root /var/lib/ferry/registry

  # Reachable from other hosts, with TLS and basic auth (htpasswd -Bc users alice)
  ferry serve --addr 0.0.0.0:5443 --root /srv/registry \
    --tls-cert registry.crt --tls-key registry.key --htpasswd users

  # Any distribution setting, from its own configuration file, such as
  # storage on an S3 bucket (see docs/serve.md)
  ferry serve --config registry.yml`

// Command is `ferry serve`, for cli.Execute.
func Command(env cli.Env) *cobra.Command {
	var o serve.Options
	cmd := &cobra.Command{
		Use:     "serve",
		Short:   cli.ServeShort,
		Long:    long(),
		Example: example,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return run(cmd, env, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Addr, "addr", "", "address to listen on, host:port (default "+serve.DefaultAddr+"; port 0 picks a free one)")
	f.StringVar(&o.Root, "root", "", "directory for the registry's content, created if missing (default: in memory, lost on exit)")
	f.StringVar(&o.ConfigFile, "config", "", "distribution configuration file (version 0.1); flags override its keys")
	f.StringVar(&o.TLSCert, "tls-cert", "", "PEM certificate to serve TLS with (with --tls-key)")
	f.StringVar(&o.TLSKey, "tls-key", "", "PEM private key of --tls-cert")
	f.StringVar(&o.Htpasswd, "htpasswd", "", "htpasswd file (bcrypt entries, htpasswd -B) for basic auth")
	f.BoolVar(&o.ReadOnly, "read-only", false, "refuse every push and delete")
	f.StringVar(&o.LogLevel, "log-level", "", "distribution's log level: error, warn, info, debug (default error; info with -v)")
	cmd.MarkFlagsRequiredTogether("tls-cert", "tls-key")
	return cmd
}

func run(cmd *cobra.Command, env cli.Env, o serve.Options) error {
	if env.Verbosity() > 0 && o.LogLevel == "" {
		o.LogLevel = "info"
	}
	o.LogOutput = env.Stderr
	srv, err := serve.New(o)
	if err != nil {
		var ce *serve.ConfigError
		if errors.As(err, &ce) {
			return exitcode.Mark(fmt.Errorf("serve: %w", err), exitcode.Usage)
		}
		return fmt.Errorf("serve: %w", err)
	}
	return srv.Run(cmd.Context(), func(s *serve.Server) {
		fmt.Fprintf(env.Stdout, "ferry serve: listening on %s\n", s.URL())
	})
}

// Args are ferry-serve's arguments as ferry's: serve's, or a shell's
// request for the completions of serve's (which ferry relays).
func Args(args []string) []string {
	if len(args) > 0 && (args[0] == cobra.ShellCompRequestCmd || args[0] == cobra.ShellCompNoDescRequestCmd) {
		return append([]string{args[0], "serve"}, args[1:]...)
	}
	return append([]string{"serve"}, args...)
}
