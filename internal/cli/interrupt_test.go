package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/ferry-oci/ferry/internal/exitcode"
	"github.com/ferry-oci/ferry/oci"
	"github.com/ferry-oci/ferry/release"
)

// TestInterruptedImportIsNotDamage: a read of the bundle cut short by an
// interrupt (the engine marks it as the source's) is reported as an
// interruption, exit 130, asking to run the command again; a digest
// mismatch is damage, exit 4.
func TestInterruptedImportIsNotDamage(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	cut := &oci.Error{Op: "fetch", Ref: "stefanprodan/podinfo", Side: oci.Source, Err: fmt.Errorf("reading blob: %w", io.ErrUnexpectedEOF)}
	for _, tc := range []struct {
		name     string
		ctx      context.Context
		err      error
		code     int
		want     string
		notWants string
	}{
		{"context canceled on the source", context.Background(), &oci.Error{Op: "fetch", Side: oci.Source, Err: context.Canceled}, exitcode.Interrupted.Code, "run the same command again", "damaged"},
		{"a read cut short once interrupted", ctx, cut, exitcode.Interrupted.Code, "run the same command again", "damaged"},
		{"a digest mismatch", context.Background(), &oci.Error{Op: "fetch", Side: oci.Source, Err: oci.ErrDigestMismatch}, exitcode.Damaged.Code, "the bundle is damaged", "run the same command again"},
		{"a blob missing from the bundle", context.Background(), &oci.Error{Op: "fetch", Side: oci.Source, Err: oci.ErrNotFound}, exitcode.Failure.Code, "the bundle is damaged", "interrupted"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := release.ImportHint(tc.ctx, &release.RunError{What: "importing b.tar into x", Err: tc.err}, "b.tar")
			var buf bytes.Buffer
			code := report(&buf, err, tc.ctx.Err() != nil, true)
			if code != tc.code || !strings.Contains(buf.String(), tc.want) || strings.Contains(buf.String(), tc.notWants) {
				t.Errorf("exit %d (want %d):\n%s", code, tc.code, buf.String())
			}
		})
	}
}
