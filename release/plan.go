package release

import (
	"context"
	"crypto"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/ferry-oci/ferry/cosign"
	"github.com/ferry-oci/ferry/oci"
	"github.com/ferry-oci/ferry/ocmtransfer"
	"github.com/ferry-oci/ferry/repository"
	"github.com/ferry-oci/ferry/transfer"
)

// ErrPlanSignature: a plan's signature is missing or does not verify with
// any of the keys it must verify with.
var ErrPlanSignature = errors.New("the plan's signature does not verify")

// ErrPlanStale: the source no longer holds content the plan names.
var ErrPlanStale = errors.New("the source no longer holds what the plan names")

// PlanFile is a transfer's plan as `ferry transfer --dry-run -o json`
// prints it: where it reads and writes, every component version, artifact
// and blob by digest, and optionally a signature. RunPlan runs exactly it.
type PlanFile struct {
	// Source and Target are the repositories, as specified.
	Source string `json:"source"`
	Target string `json:"target"`
	*ocmtransfer.Plan
	Stats transfer.Stats `json:"stats"`
	// Signature, when set, signs the rest of the document (see SignPlan).
	Signature *PlanSignature `json:"signature,omitempty"`
}

// PlanSignature is the signature of a plan: over the document without its
// "signature" member, as compact JSON with its top-level members sorted,
// in the scheme of `cosign sign-blob` for the key's type.
type PlanSignature struct {
	Key   string `json:"key"`   // the public key's fingerprint (cosign.KeyID)
	Value string `json:"value"` // base64
}

// NewPlanFile describes the plan of a transfer's Result.
func NewPlanFile(r *Result) *PlanFile {
	return &PlanFile{Source: r.Source, Target: r.Target, Plan: r.Plan, Stats: r.Plan.Stats()}
}

// Marshal writes the plan as indented JSON, signed with key when it is set.
func (p *PlanFile) Marshal(key crypto.Signer) ([]byte, error) {
	p.Signature = nil
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil || key == nil {
		return append(b, '\n'), err
	}
	canon, err := canonicalPlan(b)
	if err != nil {
		return nil, err
	}
	sig, err := cosign.SignBlob(key, canon)
	if err != nil {
		return nil, fmt.Errorf("signing the plan: %w", err)
	}
	id, err := cosign.KeyID(key.Public())
	if err != nil {
		return nil, err
	}
	p.Signature = &PlanSignature{Key: id, Value: base64.StdEncoding.EncodeToString(sig)}
	b, err = json.MarshalIndent(p, "", "  ")
	return append(b, '\n'), err
}

// ReadPlan reads a plan file. With keys, its signature must verify with one
// of them (else an error wrapping ErrPlanSignature): a plan changed after it
// was signed is refused.
func ReadPlan(b []byte, keys ...crypto.PublicKey) (*PlanFile, error) {
	var p PlanFile
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("reading the plan: %w", err)
	}
	if p.Plan == nil || p.Source == "" || p.Target == "" {
		return nil, errors.New("reading the plan: no source, target or plan: make it with 'ferry transfer … --dry-run -o json'")
	}
	if len(keys) == 0 {
		return &p, nil
	}
	if p.Signature == nil {
		return nil, fmt.Errorf("the plan is not signed: %w", ErrPlanSignature)
	}
	sig, err := base64.StdEncoding.DecodeString(p.Signature.Value)
	if err != nil {
		return nil, fmt.Errorf("the plan's signature is not base64: %w", ErrPlanSignature)
	}
	canon, err := canonicalPlan(b)
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		if cosign.VerifyBlob(k, canon, sig) {
			return &p, nil
		}
	}
	return nil, fmt.Errorf("signed by key %s, verified with none of the %d key(s) given, or changed after it was signed: %w", p.Signature.Key, len(keys), ErrPlanSignature)
}

// canonicalPlan is what a plan's signature signs: the document without its
// signature, compact, top-level members sorted.
func canonicalPlan(doc []byte) ([]byte, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(doc, &m); err != nil {
		return nil, fmt.Errorf("reading the plan: %w", err)
	}
	delete(m, "signature")
	return json.Marshal(m)
}

// RunPlan runs a plan made earlier (PlanFile): it opens its source and
// target, checks that the source still holds every manifest and blob the
// plan names, by digest (else an error wrapping ErrPlanStale, and nothing is
// written), and copies exactly them, nothing re-resolved from tags, the
// component versions last as the plan holds them. Options that shape a plan
// (platforms, gates, recursion) do not apply: the plan was made with them.
func RunPlan(ctx context.Context, p *PlanFile, o Options) (*Result, error) {
	src, sources, err := planSources(ctx, p, o)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	defer sources.Close()
	ro := o.Repository
	ro.Write = !o.Check
	dst, err := repository.Open(ctx, p.Target, ro)
	if err != nil {
		return nil, err
	}
	// The drift gate (promote.go) compares the plan's tags with the target
	// before anything is written.
	if o.Check {
		defer dst.Abort()
		return o.check(ctx, p.Plan, dst.Store())
	}
	drift, err := o.gate(ctx, p.Plan, dst, dst.Store())
	if err != nil {
		dst.Abort()
		return nil, err
	}
	rep, err := ocmtransfer.Run(ctx, p.Plan, sources, dst.Store(), o.runOptions())
	if err != nil {
		dst.Abort()
		return nil, &RunError{What: "transferring to " + p.Target, Err: err}
	}
	if err := dst.Close(); err != nil {
		return nil, &CommitError{Target: p.Target, Err: err}
	}
	res := &Result{Plan: p.Plan, Report: rep, Source: p.Source, Target: p.Target, Promoted: Promoted{Drift: drift}}
	return res, o.promoted(res, dst)
}

// checkPlanned checks that the sources hold every artifact and blob of the
// plan, by digest.
func checkPlanned(ctx context.Context, p *ocmtransfer.Plan, s *ocmtransfer.SourceReader) error {
	for _, a := range p.Artifacts {
		ref, err := oci.ParseRef(a.Source + "@" + a.Digest.String())
		if err != nil {
			return err
		}
		if _, err := s.Resolve(ctx, ref); err != nil {
			return fmt.Errorf("artifact %s (%s): %w: %w", ref, a.For, ErrPlanStale, err)
		}
	}
	for _, b := range p.Blobs {
		ok, err := s.Has(ctx, b.Source, b.Descriptor())
		if err != nil {
			return fmt.Errorf("blob %s@%s: %w", b.Source, b.Digest, err)
		}
		if !ok {
			return fmt.Errorf("blob %s@%s: %w", b.Source, b.Digest, ErrPlanStale)
		}
	}
	return nil
}
