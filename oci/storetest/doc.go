// Package storetest holds what every oci.Store promises, as one suite of
// tests that each Store implementation runs: the registry Store
// (oci/remote), CTF directories and tar archives (ctf), and bundles.
// A new medium is done when storetest.Run passes against it.
package storetest
