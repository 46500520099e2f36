//go:build unix

package cli

import (
	"fmt"
	"os"
	"syscall"
)

// execServe replaces ferry with ferry-serve at p, run with args: the
// registry gets ferry's process, so signals and the exit code need no
// relaying.
func execServe(p string, args []string) error {
	err := syscall.Exec(p, append([]string{p}, args...), os.Environ())
	return fmt.Errorf("serve: starting %s: %w", p, err)
}
