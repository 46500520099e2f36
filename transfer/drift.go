package transfer

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sync/errgroup"

	"github.com/ferry-oci/ferry/internal/exitcode"
	"github.com/ferry-oci/ferry/oci"
)

// ErrDrift: the target holds other content under a tag a transfer would
// set (a tag rewritten out of band, or an immutable release changed at the
// source).
var ErrDrift = exitcode.Mark(errors.New("drift"), exitcode.Drift) // exit code 3

// TagCheck is one tag a plan would set in the target, and what the target
// holds under it.
type TagCheck struct {
	Repo string `json:"repo"` // the target repository
	Tag  string `json:"tag"`
	// Component names what the tag is of when it is not an artifact of the
	// plan but a tag its caller sets (the more of CheckTags): the component
	// version ("example.com/podinfo:6.3.5") in an OCM transfer; "" for an
	// artifact's.
	Component string `json:"component,omitempty"`
	// Planned is the digest the plan would set (the source's content);
	// Found what the target holds under the tag (zero when the tag does not
	// exist yet). Their JSON names are "source" and "target".
	Planned v1.Hash `json:"source"`
	Found   v1.Hash `json:"target,omitzero"`
	// Action is what the drift gate did about a drifted tag: "stop",
	// "overwrite" or "skip"; "" for a tag in sync or absent.
	Action string `json:"action,omitempty"`
	// Backup is the tag the old content was kept under (DriftOverwrite with
	// a BackupSuffix).
	Backup string `json:"backup,omitempty"`

	accept []v1.Hash // digests that count as in sync (an index and its platform-filtered copy)
	target v1.Descriptor
	art    *Artifact // nil for a check of more
}

// Drifted reports whether the target holds other content under the tag.
func (c TagCheck) Drifted() bool {
	return c.Found != (v1.Hash{}) && !slices.Contains(c.accept, c.Found)
}

// Ref returns the tag as a reference ("reg.local/air/podinfo:6.3.5").
func (c TagCheck) Ref() string { return c.Repo + ":" + c.Tag }

// CheckTags compares every tag p would set in dst (the artifacts' tags),
// and the tags more names (Repo, Tag, Component and Planned: those an
// Options.Finish sets), with what dst holds, reading only. The result lists
// every tag, the plan's in plan order, then more; TagCheck.Drifted marks
// those that exist with another digest.
func CheckTags(ctx context.Context, p *Plan, dst oci.Reader, jobs int, more ...TagCheck) ([]TagCheck, error) {
	var checks []TagCheck
	for i := range p.Artifacts {
		a := &p.Artifacts[i]
		accept := []v1.Hash{a.Digest}
		if a.Filter != nil && a.Filter.Digest != (v1.Hash{}) {
			accept = append(accept, a.Filter.Digest)
		}
		for _, t := range a.Tags {
			checks = append(checks, TagCheck{Repo: a.Target, Tag: t, Planned: a.Landed().Digest, accept: accept, art: a})
		}
	}
	for _, c := range more {
		checks = append(checks, TagCheck{Repo: c.Repo, Tag: c.Tag, Component: c.Component, Planned: c.Planned, accept: []v1.Hash{c.Planned}})
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(jobs, 1))
	for i := range checks {
		c := &checks[i]
		g.Go(func() error {
			ref, err := oci.ParseRef(c.Ref())
			if err != nil {
				return err
			}
			d, err := dst.Resolve(gctx, ref)
			if errors.Is(err, oci.ErrNotFound) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("resolving %s in the target: %w", ref, oci.WithSide(err, oci.Destination, "resolve"))
			}
			c.Found, c.target = d.Digest, d
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	for _, c := range checks {
		if c.art != nil && c.Found != (v1.Hash{}) {
			if c.art.found == nil {
				c.art.found = map[string]v1.Hash{}
			}
			c.art.found[c.Tag] = c.Found
		}
	}
	return checks, nil
}

// Drifted returns the checks whose tag holds other content.
func Drifted(checks []TagCheck) []TagCheck {
	var out []TagCheck
	for _, c := range checks {
		if c.Drifted() {
			out = append(out, c)
		}
	}
	return out
}

// DriftPolicy says what the drift gate does about a drifted tag.
type DriftPolicy int

const (
	// DriftStop stops the transfer before anything is written: the gate
	// returns a *DriftError.
	DriftStop DriftPolicy = iota
	// DriftOverwrite moves the tag to the planned content, keeping the old
	// content under a backup tag when DriftOptions.BackupSuffix is set.
	DriftOverwrite
	// DriftSkip leaves the tag as it is: an artifact is still copied by
	// digest but not tagged; a tag of more is left to the caller (an OCM
	// transfer does not write the component version).
	DriftSkip
)

// DriftOptions tune Gate.
type DriftOptions struct {
	Policy DriftPolicy
	// BackupSuffix, with DriftOverwrite, is appended to a drifted tag to
	// name the backup tag that keeps the old content ("6.3.5" with
	// "-backup" keeps it as "6.3.5-backup"); "" keeps no backup.
	BackupSuffix string
	Jobs         int
}

// DriftError lists the tags that hold other content in the target. It
// wraps ErrDrift.
type DriftError struct {
	Drifted []TagCheck
}

func (e *DriftError) Error() string {
	return fmt.Sprintf("%s: %d tag(s) in the target hold other content than the transfer would set:\n%s",
		ErrDrift.Error(), len(e.Drifted), DriftTable(e.Drifted))
}

func (e *DriftError) Unwrap() error { return ErrDrift }

// DriftTable renders checks as a table: tag, target digest, source digest.
func DriftTable(checks []TagCheck) string {
	rows := [][3]string{{"TAG", "TARGET DIGEST", "SOURCE DIGEST"}}
	for _, c := range checks {
		t := c.Found.String()
		if c.Found == (v1.Hash{}) {
			t = "(none)"
		}
		rows = append(rows, [3]string{c.Ref(), t, c.Planned.String()})
	}
	w := 0
	for _, r := range rows {
		w = max(w, len(r[0]))
	}
	var b strings.Builder
	for _, r := range rows {
		fmt.Fprintf(&b, "  %-*s  %-71s  %s\n", w, r[0], r[1], r[2])
	}
	return strings.TrimRight(b.String(), "\n")
}

// CheckBackupSuffix checks that a backup suffix makes valid tags.
func CheckBackupSuffix(s string) error {
	if s == "" || oci.ValidTag("x"+s) && !strings.Contains(s, ":") {
		return nil
	}
	return fmt.Errorf("backup tag suffix %q: a tag may hold only letters, digits, '_', '.' and '-' (128 characters at most)", s)
}

// Gate is the drift gate, run before anything is written: it compares
// every tag p would set in dst, and those of more, with what dst holds
// (CheckTags) and, for the drifted ones, stops (a *DriftError, nothing
// written), or changes p so that Run overwrites them (after tagging the
// old content under the backup tag) or leaves them alone. It returns
// every check, with the action taken on the drifted ones; the caller acts
// on those of more.
func Gate(ctx context.Context, p *Plan, dst oci.Store, o DriftOptions, more ...TagCheck) ([]TagCheck, error) {
	if err := CheckBackupSuffix(o.BackupSuffix); err != nil {
		return nil, err
	}
	checks, err := CheckTags(ctx, p, dst, o.Jobs, more...)
	if err != nil {
		return nil, err
	}
	drifted := Drifted(checks)
	if len(drifted) == 0 {
		return checks, nil
	}
	if o.Policy == DriftStop {
		for i := range checks {
			if checks[i].Drifted() {
				checks[i].Action = "stop"
			}
		}
		return checks, &DriftError{Drifted: Drifted(checks)}
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(o.Jobs, 1))
	for i := range checks {
		c := &checks[i]
		if !c.Drifted() {
			continue
		}
		if o.Policy == DriftSkip {
			c.Action = "skip"
			if c.art != nil {
				c.art.Tags = slices.DeleteFunc(slices.Clone(c.art.Tags), func(t string) bool { return t == c.Tag })
			}
			continue
		}
		c.Action = "overwrite"
		if o.BackupSuffix == "" {
			continue
		}
		c.Backup = c.Tag + o.BackupSuffix
		g.Go(func() error {
			ref, err := oci.ParseRef(c.Repo + ":" + c.Backup)
			if err != nil {
				return fmt.Errorf("backup tag %s:%s: %w", c.Repo, c.Backup, err)
			}
			if err := dst.Tag(gctx, ref, c.target); err != nil {
				return fmt.Errorf("keeping %s under the backup tag %s: %w", c.Ref(), ref, oci.WithSide(err, oci.Destination, "tag"))
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return checks, err
	}
	return checks, nil
}
