// Package depcheck holds the test of the module's import rules: which
// package may depend on which (see depcheck_test.go). It has no code.
package depcheck
