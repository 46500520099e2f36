// Package e2e runs ferry's whole story through the real binary against two
// in-process registries: publish a release, carry it across as a bundle and
// directly, localize its manifests, and check that nothing public is left.
// It also runs the shell blocks of the README and docs/ that are not marked
// "# illustrative".
package e2e
