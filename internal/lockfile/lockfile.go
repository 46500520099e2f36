// Package lockfile keeps two processes from writing one target at once: an
// exclusive OS file lock (flock) on a small file beside the target, which
// the kernel releases when the holder exits, however it exits. The lock file
// holds the holder's PID, so a second writer can say who is in the way.
//
// ctf locks a CTF directory or tar while it is written, bundle a bundle path
// while it is created. Readers take no lock.
package lockfile

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// ErrLocked: another process (or another writer in this one) holds the lock.
var ErrLocked = errors.New("another writer holds the lock")

// LockedError says which target is locked, by which process, and for how
// long this one waited.
type LockedError struct {
	Target string        // what was to be written
	Path   string        // the lock file
	PID    int           // the holder's process ID; 0 when it could not be read
	Waited time.Duration // how long Acquire waited
}

func (e *LockedError) Error() string {
	who := "another process"
	if e.PID > 0 {
		who = "process " + strconv.Itoa(e.PID)
	}
	if e.PID == os.Getpid() {
		who = "this process (another writer)"
	}
	msg := fmt.Sprintf("%s is being written by %s (lock %s)", e.Target, who, e.Path)
	if e.Waited >= time.Millisecond {
		msg += fmt.Sprintf("; waited %s", e.Waited.Round(time.Millisecond))
	}
	return msg
}

func (e *LockedError) Unwrap() error { return ErrLocked }

// Path returns the lock file of target: ".NAME.lock" in target's directory.
func Path(target string) string {
	target = filepath.Clean(target)
	return filepath.Join(filepath.Dir(target), "."+filepath.Base(target)+".lock")
}

// Lock is a held lock; Release gives it up.
type Lock struct {
	f    *os.File
	path string
}

// poll is how often a waiting Acquire tries again.
const poll = 25 * time.Millisecond

// Acquire locks target, waiting up to timeout (0: not at all) while another
// writer holds it, or until ctx ends. It fails with a *LockedError
// (wrapping ErrLocked) naming the holder's PID when the wait is over. The
// directory of target must exist.
func Acquire(ctx context.Context, target string, timeout time.Duration) (*Lock, error) {
	p := Path(target)
	start := time.Now()
	for {
		l, err := try(p)
		if err == nil {
			return l, nil
		}
		if !errors.Is(err, ErrLocked) {
			return nil, fmt.Errorf("locking %s: %w", target, err)
		}
		waited := time.Since(start)
		if waited >= timeout {
			return nil, &LockedError{Target: target, Path: p, PID: holder(p), Waited: waited}
		}
		t := time.NewTimer(min(poll, timeout-waited))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("waiting for the lock of %s: %w", target, ctx.Err())
		case <-t.C:
		}
	}
}

// holder reads the PID in lock file p; 0 when there is none yet.
func holder(p string) int {
	for range 3 {
		b, err := os.ReadFile(p)
		if err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 0 {
				return pid
			}
		}
		time.Sleep(5 * time.Millisecond) // the holder has the lock but has not written its PID yet
	}
	return 0
}

// Release removes the lock file and gives up the lock. It is safe to call
// more than once.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	// Removed while still held: a writer waiting on this file finds, once it
	// holds the lock, that the file is no longer the lock file, and tries
	// again on a new one.
	err := os.Remove(l.path)
	if errors.Is(err, os.ErrNotExist) {
		err = nil
	}
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	l.f = nil
	return err
}
