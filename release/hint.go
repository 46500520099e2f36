package release

import (
	"context"
	"errors"
	"fmt"
	"io/fs"

	"github.com/ferry-oci/ferry/bundle"
	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/component/ocireg"
	"github.com/ferry-oci/ferry/cosign"
	"github.com/ferry-oci/ferry/internal/exitcode"
	"github.com/ferry-oci/ferry/internal/lockfile"
	"github.com/ferry-oci/ferry/localize"
	"github.com/ferry-oci/ferry/oci"
	"github.com/ferry-oci/ferry/oci/remote"
	"github.com/ferry-oci/ferry/repository"
	"github.com/ferry-oci/ferry/transfer"
)

// HintedError is an error that knows what the user should do about it. The
// hints speak the words of ferry's command line (its commands and flags).
type HintedError struct {
	Err  error
	Hint string
}

func (e *HintedError) Error() string { return e.Err.Error() }
func (e *HintedError) Unwrap() error { return e.Err }

// WithHint attaches a hint to err (nil stays nil); when err holds hints
// already, Hint reports the outermost.
func WithHint(err error, format string, a ...any) error {
	if err == nil {
		return nil
	}
	return &HintedError{err, fmt.Sprintf(format, a...)}
}

// IsUsage reports whether err is an error in how ferry was called: marked
// as such (exitcode.Usage, ErrUsage) or a malformed version constraint.
func IsUsage(err error) bool {
	return errors.Is(err, exitcode.Usage) || errors.Is(err, ErrUsage) || errors.Is(err, component.ErrInvalidConstraint)
}

// Hint picks the one hint that helps most with err: its own (WithHint),
// else one for a transfer the drift gate stopped, a constraint that
// matched nothing, a registry flag that
// names no file (remote.ConfigFileError), for usage
// (usage says err is one), for a registry that refused, or for the domain
// error err holds. resumes says that running the same command again
// resumes where it stopped. "" when no hint helps.
func Hint(err error, usage, resumes bool) string {
	var h *HintedError
	if errors.As(err, &h) {
		return h.Hint
	}
	var (
		fe *remote.ConfigFileError
		de *transfer.DriftError
	)
	switch {
	case errors.As(err, &de):
		return "the tags above changed in the target since they were written: find out why; then pass --overwrite (with --backup-tag-suffix to keep the old content) or --skip-existing"
	case errors.Is(err, component.ErrNoVersionMatches):
		return "widen the constraint, or name one of the versions that exist (REPO//NAME:VERSION)"
	case errors.As(err, &fe):
		return fmt.Sprintf("check the path given to %s: the file must exist and be readable", fe.Flag)
	case usage:
		return "run 'ferry help' or add --help to the command for its usage"
	}
	if h := remote.Hint(err); h != "" {
		return h
	}
	return domainHint(err, resumes)
}

// domainHint is the hint for the errors of ferry's packages.
func domainHint(err error, resumes bool) string {
	host := remote.HostOr(err, "the registry")
	var nf *ocireg.NotFoundError
	switch {
	case errors.Is(err, repository.ErrNoArchive):
		return "the CTF archive does not exist; for a registry, name its host (registry.local:5000/path) or use the OCIRegistry:: prefix"
	case errors.Is(err, oci.ErrDigestMismatch), errors.Is(err, oci.ErrSizeMismatch):
		return "the content is not what its digest promises: it was damaged in storage or in transit; fetch it again from the source, and do not use the damaged copy"
	case errors.Is(err, exitcode.Interrupted) && resumes:
		return "run the same command again: it resumes where it stopped and copies nothing twice"
	case errors.Is(err, exitcode.Interrupted):
		return "run the same command again when you are ready"
	case oci.Temporary(err) && resumes:
		return fmt.Sprintf("%s or the network failed after every retry: check that it is reachable (address, port, proxy), then run the same command again; it resumes where it stopped", host)
	case errors.Is(err, lockfile.ErrLocked):
		return "another run is writing the same path: wait for it to end, or pass --lock-timeout 10m to wait for it; a lock left by a run that was killed is released by the system"
	case oci.Temporary(err):
		return fmt.Sprintf("%s or the network failed after every retry: check that it is reachable (address, port, proxy) and try again", host)
	case errors.As(err, &nf):
		return "check the component name and version for typos; 'ferry component get REPO//NAME' lists the versions a repository holds"
	case errors.Is(err, component.ErrSignatureInvalid):
		return "the signature does not verify with this key: check that --public-key is the signer's; if it is, the version was altered: do not carry it"
	}
	return ""
}

// VerifyHint explains a refusal of the supply-chain gates (signatures of
// component versions and images, digests of their content); other errors
// are returned as they are.
func VerifyHint(err error) error {
	switch {
	case errors.Is(err, cosign.ErrUnsigned):
		return WithHint(err, "to carry images without signatures, leave out --verify-images-key")
	case errors.Is(err, cosign.ErrBadSignature):
		return WithHint(err, "the image's signatures do not verify with the key: check that --verify-images-key names the publisher's key")
	case errors.Is(err, component.ErrNoSignature):
		return WithHint(err, "ask the publisher for a signed version, or sign it with 'ferry component sign' if you vouch for it")
	case errors.Is(err, component.ErrSignatureInvalid):
		return WithHint(err, "the signature does not verify with this key: check that --public-key is the signer's; if it is, the version was altered: do not carry it")
	case errors.Is(err, component.ErrDigestChanged):
		return WithHint(err, "the content is not what the version records (it was changed after the version was made or signed): do not carry it; ask the publisher where it came from")
	}
	return err
}

// PlanHint explains a plan that could not run (ErrPlanStale).
func PlanHint(err error) error {
	if errors.Is(err, ErrPlanStale) {
		return WithHint(err, "the source changed since the plan was made: make the plan again and review it")
	}
	return err
}

// BundleCreateHint says what to do after a failed CreateBundle (or
// CreateBundleFromPlan) of file.
func BundleCreateHint(err error, file string) error {
	var re *RunError
	switch {
	case errors.Is(err, ErrPlanStale):
		return PlanHint(err)
	case errors.Is(err, bundle.ErrPartialExists):
		return WithHint(err, "an earlier create of %s stopped: add --resume to continue it, or delete %s.partial* to start afresh", file, file)
	case errors.Is(err, fs.ErrExist):
		return WithHint(err, "the bundle exists already: remove it or choose another -o")
	case errors.Is(err, bundle.ErrNoSpace):
		return WithHint(err, "nothing was fetched: make room on that disk, or write the bundle to a larger one with -o")
	case errors.Is(err, bundle.ErrPlanChanged):
		return WithHint(err, "the source or the options changed since the partial bundle was started: delete %s.partial* and create it again", file)
	case errors.As(err, &re):
		return WithHint(err, "the partial bundle is kept: run the same command with --resume to fetch only what is missing")
	}
	return VerifyHint(err)
}

// BundleHint says what to do about an error opening or checking the
// bundle file: a file that is not there is not a damaged bundle.
func BundleHint(err error, file string) error {
	switch {
	case errors.Is(err, fs.ErrNotExist) && !errors.Is(err, exitcode.Damaged):
		return WithHint(err, "there is no bundle %s (nor volumes %s.000, …): check the path and the current directory", file, file)
	case errors.Is(err, exitcode.Damaged):
		return WithHint(err, "the bundle is damaged: bring the file (or the volume named) again and run 'ferry bundle verify %s'; do not import it", file)
	}
	return err
}

// ImportHint says what to do after a failed Import of file. The bundle is
// called damaged only when a digest or size does not match, an entry is
// malformed or a blob is missing from it; an interruption (however the
// read it cut short failed) is never damage.
func ImportHint(ctx context.Context, err error, file string) error {
	if ctx.Err() != nil || errors.Is(err, context.Canceled) {
		return err
	}
	var (
		de *DamagedError
		le *LeftOutError
		re *RunError
		oe *oci.Error
	)
	damaged := "the bundle is damaged; nothing was tagged: run 'ferry bundle verify %s' to see where, and bring it again"
	switch {
	case errors.As(err, &de) && (errors.Is(err, fs.ErrNotExist) || errors.Is(err, exitcode.Damaged)):
		return BundleHint(err, file)
	case errors.As(err, &de):
		return WithHint(err, "the bundle is damaged or incomplete: run 'ferry bundle verify %s' for details, and bring the bundle (or the volume named) again", file)
	case errors.As(err, &le):
		return WithHint(err, "import the bundles this one builds on first, or create a full bundle (without --missing-from)")
	case errors.As(err, &re) && bundle.IsDamage(err):
		return WithHint(exitcode.Mark(err, exitcode.Damaged), damaged, file)
	case errors.As(err, &re) && errors.As(err, &oe) && oe.Side == oci.Source && errors.Is(err, oci.ErrNotFound):
		return WithHint(err, damaged, file)
	}
	return VerifyHint(err)
}

// LocalizeHint explains a failed Localize; a malformed resource identity
// is a *UsageError.
func LocalizeHint(err error) error {
	var cerr *localize.CoverageError
	switch {
	case errors.As(err, &cerr):
		return WithHint(err, "add a localization rule for each image listed, --allow an image that is provided otherwise, or pass --allow-unlocalized")
	case errors.Is(err, ErrChartRepo):
		return WithHint(err, "name a registry for the chart with --chart-repo oci://REPO (it is pushed as REPO/NAME:VERSION)")
	case errors.Is(err, ErrNoRules):
		return WithHint(err, "name the rules with --config RESOURCE or --rules FILE, or rewrite by image name with --auto")
	case errors.Is(err, component.ErrInvalidIdentity):
		return &UsageError{err}
	}
	return err
}
