package cli

import (
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
