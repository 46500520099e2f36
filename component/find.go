package component

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInvalidIdentity: a resource identity as users write it could not be
// parsed.
var ErrInvalidIdentity = errors.New("invalid resource identity")

// ParseIdentity parses a resource identity as users write it: "name", or
// "name,key=value,…" with extra identity.
func ParseIdentity(spec string) (Identity, error) {
	id := Identity{}
	for i, part := range strings.Split(spec, ",") {
		k, v, ok := strings.Cut(part, "=")
		if i == 0 && !ok {
			id["name"] = part
			continue
		}
		if !ok || k == "" {
			return nil, fmt.Errorf("resource %q: want name or name,key=value,…: %w", spec, ErrInvalidIdentity)
		}
		id[k] = v
	}
	if id["name"] == "" {
		return nil, fmt.Errorf("resource %q: no name: %w", spec, ErrInvalidIdentity)
	}
	return id, nil
}

// FindResource finds the resource spec names (see ParseIdentity): by its
// whole identity, or by its name alone when no other resource has it. The
// error of a name that matches none or several lists the resources there
// are.
func (d *Descriptor) FindResource(spec string) (*Resource, error) {
	id, err := ParseIdentity(spec)
	if err != nil {
		return nil, err
	}
	if i := d.ResourceIndex(id); i >= 0 {
		return &d.Resources[i], nil
	}
	var matches []int
	for i, r := range d.Resources {
		if r.Name == id["name"] {
			matches = append(matches, i)
		}
	}
	if len(matches) == 1 && len(id) == 1 {
		return &d.Resources[matches[0]], nil
	}
	names := make([]string, 0, len(d.Resources))
	for _, rid := range d.ResourceIdentities() {
		names = append(names, rid.String())
	}
	if len(matches) > 1 {
		return nil, fmt.Errorf("%s:%s has %d resources named %q: add their extra identity (name,key=value): %v", d.Name, d.Version, len(matches), id["name"], names)
	}
	return nil, fmt.Errorf("%s:%s has no resource %s; it has %v", d.Name, d.Version, spec, names)
}
