package lockfile_test

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ferry-oci/ferry/internal/lockfile"
)

func TestSecondWriterFailsNamingTheHolder(t *testing.T) {
	target := filepath.Join(t.TempDir(), "ctf")
	l, err := lockfile.Acquire(t.Context(), target, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = lockfile.Acquire(t.Context(), target, 0)
	var le *lockfile.LockedError
	if !errors.As(err, &le) || !errors.Is(err, lockfile.ErrLocked) || le.PID != os.Getpid() {
		t.Fatalf("second Acquire = %v, want a LockedError naming PID %d", err, os.Getpid())
	}
	if !strings.Contains(err.Error(), target) {
		t.Errorf("the error does not name the target: %v", err)
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(lockfile.Path(target)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the lock file stays after Release: %v", err)
	}
	l2, err := lockfile.Acquire(t.Context(), target, 0)
	if err != nil {
		t.Fatalf("after Release: %v", err)
	}
	l2.Release()
}

func TestWaiterGetsTheLockWhenReleased(t *testing.T) {
	target := filepath.Join(t.TempDir(), "b.tar")
	l, err := lockfile.Acquire(t.Context(), target, 0)
	if err != nil {
		t.Fatal(err)
	}
	go func() { time.Sleep(100 * time.Millisecond); l.Release() }()
	start := time.Now()
	l2, err := lockfile.Acquire(t.Context(), target, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Release()
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Errorf("got the lock after %v, while it was held", d)
	}
	_, err = lockfile.Acquire(t.Context(), target, 80*time.Millisecond)
	var le *lockfile.LockedError
	if !errors.As(err, &le) || le.Waited < 80*time.Millisecond {
		t.Fatalf("Acquire with a timeout while held = %v", err)
	}
}

// TestKilledHolderReleases: the kernel gives the lock up when its holder
// is killed; the lock file it leaves is taken over and removed.
func TestKilledHolderReleases(t *testing.T) {
	if os.Getenv("LOCKFILE_HOLD") != "" {
		l, err := lockfile.Acquire(t.Context(), os.Getenv("LOCKFILE_HOLD"), 0)
		if err != nil {
			os.Exit(3)
		}
		_ = l
		os.Stdout.WriteString("held\n")
		time.Sleep(time.Minute)
		return
	}
	target := filepath.Join(t.TempDir(), "ctf")
	cmd := exec.Command(os.Args[0], "-test.run=TestKilledHolderReleases$")
	cmd.Env = append(os.Environ(), "LOCKFILE_HOLD="+target)
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(out).ReadString('\n')
	if line != "held\n" {
		t.Fatalf("helper: %q", line)
	}
	_, err := lockfile.Acquire(t.Context(), target, 0)
	var le *lockfile.LockedError
	if !errors.As(err, &le) || le.PID != cmd.Process.Pid {
		t.Fatalf("Acquire while the helper holds it = %v, want its PID %d", err, cmd.Process.Pid)
	}
	cmd.Process.Kill()
	cmd.Wait()
	l, err := lockfile.Acquire(t.Context(), target, time.Second)
	if err != nil {
		t.Fatalf("after the holder was killed: %v", err)
	}
	l.Release()
	if _, err := os.Stat(lockfile.Path(target)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the killed holder's lock file stays: %v", err)
	}
}
