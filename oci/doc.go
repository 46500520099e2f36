// Package oci is the seam between ferry's engine and the places content lives.
//
// A Store is a registry (package oci/remote), a CTF archive (package ctf) or a
// bundle: anything that can resolve a reference to a descriptor, stream a blob
// or manifest by digest, say whether it holds one, accept one (verifying size
// and digest while it streams), and tag a manifest. The component layer
// (component/ocireg) stores component versions on any Store, and the transfer
// engine copies between any two of them, so every medium is written once
// against this package and tested by the one suite in oci/storetest.
//
// The package also holds the vocabulary every Store shares: references
// (Ref, ParseRef), media types and the children of a manifest, the sentinel
// errors callers test with errors.Is, and the typed *Error that carries the
// registry's own error code.
package oci
