package bundle

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ErrNoSidecar: a lone volume cannot be checked because FILE.sha256 is not
// there, or does not list it.
var ErrNoSidecar = errors.New("no sidecar lists the volume")

// checkSidecar hashes every file FILE.sha256 lists, before anything reads
// the tar, so that damage anywhere in a volume (a tar header as much as a
// blob) is put on the volume it is in. It returns nothing when the bundle
// at path has no sidecar (a CTF directory, a bundle ocm made, or FILE
// joined with `cat`, whose sidecar lists the volumes instead).
func checkSidecar(ctx context.Context, path string) ([]VolumeReport, []*DamageError, error) {
	base, files, err := findVolumes(path)
	if err != nil || files == nil {
		return nil, nil, nil
	}
	side, err := readSidecar(base + ".sha256")
	if err != nil || side == nil {
		return nil, nil, nil
	}
	if len(files) == 1 && len(side) > 1 && volumeSuffix.MatchString(side[0].Name) && !volumeSuffix.MatchString(files[0]) {
		return nil, nil, nil
	}
	var reps []VolumeReport
	var probs []*DamageError
	for _, l := range side {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		rep, de, err := checkOne(filepath.Join(filepath.Dir(base), l.Name), base+".sha256", l.Sum)
		if err != nil {
			return nil, nil, err
		}
		reps = append(reps, rep)
		if de != nil {
			probs = append(probs, de)
		}
	}
	return reps, probs, nil
}

// checkOne hashes file p and compares it with want, the sum sidecar lists.
func checkOne(p, sidecar, want string) (VolumeReport, *DamageError, error) {
	rep := VolumeReport{Path: p}
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return rep, &DamageError{File: p, Offset: -1, Err: fmt.Errorf("%w: %s lists it", ErrMissingVolume, sidecar)}, nil
	}
	if err != nil {
		return rep, nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return rep, nil, err
	}
	sum, err := hashFile(f, fi.Size())
	if err != nil {
		return rep, nil, fmt.Errorf("hashing %s: %w", p, err)
	}
	rep.Size, rep.SHA256, rep.OK = fi.Size(), sum, sum == want
	if !rep.OK {
		return rep, &DamageError{File: p, Offset: -1, Err: fmt.Errorf("%w: sha256 %s, %s lists %s", ErrChecksum, sum, sidecar, want)}, nil
	}
	return rep, nil, nil
}

// VerifyVolume checks one volume of a split bundle (FILE.NNN) against the
// sidecar FILE.sha256 alone, without the other volumes: what the receiving
// side can do as each volume arrives. It fails with ErrNoSidecar when the
// sidecar is not there or does not list the volume, and with a
// *DamageError wrapping ErrChecksum when the volume does not hash to what
// the sidecar lists.
func VerifyVolume(ctx context.Context, path string) (*Report, error) {
	rep := &Report{Path: path, Volume: true}
	m := volumeSuffix.FindStringSubmatch(path)
	if m == nil {
		return rep, fmt.Errorf("verifying volume %s: not a volume name (FILE.000, FILE.001, …): %w", path, ErrNoSidecar)
	}
	base := strings.TrimSuffix(path, "."+m[1])
	sidecar := base + ".sha256"
	side, err := readSidecar(sidecar)
	if err != nil {
		return rep, &DamageError{File: sidecar, Offset: -1, Err: err}
	}
	if side == nil {
		return rep, fmt.Errorf("verifying volume %s: %s is not there: %w", path, sidecar, ErrNoSidecar)
	}
	for _, l := range side {
		if l.Name != filepath.Base(path) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		vr, de, err := checkOne(path, sidecar, l.Sum)
		if err != nil {
			return rep, err
		}
		rep.Sidecar = true
		rep.Volumes = []VolumeReport{vr}
		if de != nil {
			rep.Problems = append(rep.Problems, problem(de, 0))
			return rep, de
		}
		return rep, nil
	}
	return rep, fmt.Errorf("verifying volume %s: %s does not list it: %w", path, sidecar, ErrNoSidecar)
}
