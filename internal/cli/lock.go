package cli

import (
	"time"

	"github.com/spf13/pflag"
)

// lockFlags say how long a writer of a CTF archive or a bundle waits for
// another writer of the same path (repository.Options.LockTimeout).
type lockFlags struct {
	timeout time.Duration
}

func (l *lockFlags) addFlags(pf *pflag.FlagSet) {
	pf.DurationVar(&l.timeout, "lock-timeout", 0, "how long a write to a CTF archive or a bundle waits while another run writes the same path (0: fail at once, naming it)")
}
