package release

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/component/construct"
)

// CreateRequest is a component create as a user states it: the options
// Create takes, with the variables as NAME=VALUE, the schema by name and
// the creation time as text, and the target repository.
type CreateRequest struct {
	CreateOptions
	Target       string   // --to: a registry path or a CTF archive
	Assignments  []string // --var NAME=VALUE, over the environment
	SchemeName   string   // --scheme: v2 or v3alpha1
	CreationTime string   // --creation-time (RFC 3339); see construct.Clock
}

// Parse reads the variables (environ, as os.Environ lists it, then the
// assignments), the schema and the clock into the options of Create; a
// malformed one is a *UsageError.
func (r *CreateRequest) Parse(environ []string) (CreateOptions, error) {
	co := r.CreateOptions
	co.Vars = map[string]string{}
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		co.Vars[k] = v
	}
	for _, kv := range r.Assignments {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return co, &UsageError{fmt.Errorf("--var %q: want NAME=VALUE", kv)}
		}
		co.Vars[k] = v
	}
	var err error
	if co.Scheme, err = component.ParseScheme(r.SchemeName); err != nil || co.Scheme == "" {
		return co, &UsageError{fmt.Errorf("--scheme %q: want v2 or v3alpha1", r.SchemeName)}
	}
	if co.Now, err = construct.Clock(r.CreationTime); err != nil {
		return co, &UsageError{err}
	}
	return co, nil
}

// CreateFromFile reads the constructor file r names and creates its
// versions in r.Target (see Create), with the variables of environ and r.
// A version that exists with other content comes with a hint (WithHint).
func CreateFromFile(ctx context.Context, r CreateRequest, environ []string) (CreatedVersions, error) {
	data, err := os.ReadFile(r.File)
	if err != nil {
		return nil, &UsageError{fmt.Errorf("reading the constructor: %w", err)}
	}
	co, err := r.Parse(environ)
	if err != nil {
		return nil, err
	}
	out, err := Create(ctx, data, r.Target, co)
	if errors.Is(err, ErrVersionExists) {
		return nil, WithHint(err, "pass --overwrite to replace it, or give the new content a new version")
	}
	return out, err
}
