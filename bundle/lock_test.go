package bundle

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ferry-oci/ferry/internal/lockfile"
	"github.com/ferry-oci/ferry/internal/testimage"
)

// TestSecondCreateOfOnePath: while one create writes a bundle, a second of
// the same path fails at once naming its PID, or waits and then finds the
// bundle there; it never writes over it.
func TestSecondCreateOfOnePath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "b.tar")
	w, err := Create(path, CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var le *lockfile.LockedError
	if _, err := Create(path, CreateOptions{}); !errors.As(err, &le) || !errors.Is(err, ErrLocked) || le.PID != os.Getpid() {
		t.Fatalf("second Create: %v", err)
	}
	set := testimage.Sample()
	done := make(chan error, 1)
	go func() {
		time.Sleep(50 * time.Millisecond)
		ctx := context.Background()
		if err := w.Begin(ctx, contentsOf(t, set)); err != nil {
			done <- err
			return
		}
		if _, err := set.Push(ctx, w, ""); err != nil {
			done <- err
			return
		}
		_, err := w.Close()
		done <- err
	}()
	_, err = Create(path, CreateOptions{LockTimeout: 30 * time.Second})
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !errors.Is(err, fs.ErrExist) {
		t.Fatalf("Create after waiting: %v, want fs.ErrExist", err)
	}
	if _, err := Verify(context.Background(), path, VerifyOptions{}); err != nil {
		t.Fatalf("the first bundle: %v", err)
	}
	if m, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".*")); len(m) > 0 {
		t.Errorf("left behind: %v", m)
	}
}
