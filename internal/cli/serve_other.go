//go:build !unix

package cli

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
)

// execServe runs ferry-serve at p with args and ends ferry with its exit
// code; the console delivers Ctrl-C to both.
func execServe(p string, args []string) error {
	cmd := exec.Command(p, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		os.Exit(ee.ExitCode())
	}
	if err != nil {
		return fmt.Errorf("serve: starting %s: %w", p, err)
	}
	os.Exit(0)
	return nil
}
