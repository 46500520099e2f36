//go:build unix

package cli

import (
	"fmt"
	"os"
	"syscall"
)

// execServe replaces ferry with ferry-serve, run with args: the registry
// gets ferry's process, so signals and the exit code need no relaying.
func execServe(args []string) error {
	p, err := findServe()
	if err != nil {
		return err
	}
	err = syscall.Exec(p, append([]string{p}, args...), os.Environ())
	return fmt.Errorf("serve: starting %s: %w", p, err)
}
