package release

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/ferry-oci/ferry/internal/atomicfile"
	"github.com/ferry-oci/ferry/repository"
)

// CheckInventorySources refuses sources that do not name their
// components (REPO//NAME[:VERSION]): a registry cannot list its
// repositories reliably. The error is a *UsageError.
func CheckInventorySources(sources []string) error {
	for _, s := range sources {
		if !strings.Contains(s, "//") || strings.HasSuffix(s, "//") {
			return &UsageError{fmt.Errorf("%s: name the components: REPO//NAME[:VERSION]", s)}
		}
	}
	return nil
}

// WriteInventory takes the inventory of sources (see Inventory) and writes
// it as JSON to file, whole or not at all, or to w when file is "".
func WriteInventory(ctx context.Context, sources []string, file string, w io.Writer, o repository.Options) error {
	inv, err := Inventory(ctx, sources, o)
	if err != nil {
		return err
	}
	b := inv.Marshal()
	if file == "" {
		_, err := w.Write(b)
		return err
	}
	if _, err := atomicfile.Write(file, bytes.NewReader(b)); err != nil {
		return fmt.Errorf("writing %s: %w", file, err)
	}
	return nil
}
