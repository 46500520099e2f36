// Package storetest holds what every oci.Store promises, as one suite of
// tests that each Store implementation runs: the registry Store
// (oci/remote), CTF directories and tar archives (ctf), and bundles. A store
// that starts empty runs Run; one that must be told its content before the
// first byte (the bundle writer) runs RunPlanned; one that only reads (a
// bundle opened for import, a CTF tar opened again) runs RunReadOnly over
// content another store wrote. A new medium is done when its suite passes.
package storetest
