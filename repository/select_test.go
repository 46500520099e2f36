package repository_test

import (
	"errors"
	"testing"

	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/repository"
)

func TestSelectionCheck(t *testing.T) {
	args := []string{"./ctf//example.com/app", "registry.local/air"}
	if err := (repository.Selection{}).Check([]string{"./ctf//example.com/app:1.0"}); err != nil {
		t.Errorf("no --semver: %v", err)
	}
	if err := (repository.Selection{Semver: "~6.3"}).Check(args); err != nil {
		t.Errorf("~6.3 with references without versions: %v", err)
	}
	if err := (repository.Selection{Semver: "~~6"}).Check(args); !errors.Is(err, component.ErrInvalidConstraint) {
		t.Errorf("malformed constraint: %v, want component.ErrInvalidConstraint", err)
	}
	for _, spec := range []string{"./ctf//example.com/app:1.0", "./ctf//example.com/app@^1"} {
		if err := (repository.Selection{Semver: "~6.3"}).Check([]string{spec, "registry.local/air"}); err == nil {
			t.Errorf("~6.3 with %s: accepted", spec)
		}
	}
}
