package cli

import (
	"time"

	"github.com/spf13/pflag"

	"github.com/ferry-oci/ferry/repository"
)

// repoOptions are the options of every repository a run opens: one
// registry client for the run, --plain-http and --lock-timeout.
func (g *globals) repoOptions() (repository.Options, error) {
	s, err := g.remoteStore()
	if err != nil {
		return repository.Options{}, err
	}
	return repository.Options{Registry: s, PlainHTTP: g.registry.PlainHTTP, Selection: g.selection(), LockTimeout: g.lock.timeout, Logger: g.logger()}, nil
}

// lockFlags say how long a writer of a CTF archive or a bundle waits for
// another writer of the same path (repository.Options.LockTimeout).
type lockFlags struct {
	timeout time.Duration
}

func (l *lockFlags) addFlags(pf *pflag.FlagSet) {
	pf.DurationVar(&l.timeout, "lock-timeout", 0, "how long a write to a CTF archive or a bundle waits while another run writes the same path (0: fail at once, naming it)")
}
