package cli

import (
	"context"

	"github.com/ferry-oci/ferry/component"
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

// openRepo opens spec for reading, or with write for writing (creating a
// CTF that does not exist yet).
func (g *globals) openRepo(ctx context.Context, spec component.Repo, write bool) (*repository.Repository, error) {
	o, err := g.repoOptions()
	if err != nil {
		return nil, err
	}
	o.Write = write
	return repository.OpenRepo(ctx, spec, o)
}
