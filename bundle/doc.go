// Package bundle writes and reads ferry's offline bundles: the file that
// carries a release across an air gap on a disk.
//
// A bundle is an OCM CTF (package ctf) in an uncompressed tar, exactly as ctf
// writes one: artifact-index.json, the blobs directory, then every blob once
// as blobs/sha256.<hex> in name order, with OCM's fixed headers. Images are
// native OCI artifacts inside it and component descriptors reference them
// with relativeOciReference (CTF-NATIVE.md §6), so `ocm` reads a bundle as
// it reads any CTF. ferry's own metadata (what was planned, every blob, the
// component versions, what a differential bundle left out) is one more OCI
// artifact inside the CTF, ferry/bundle:metadata, so it survives when `ocm`
// rewrites the tar.
//
// In ferry's flow the package is a medium, below the transfer engine:
// `ferry bundle create` plans a transfer into a Writer and runs it; the
// Writer, told the whole content in advance (Begin), has computed where every
// byte of the tar goes, so the engine's concurrent pushes land at their final
// offsets in any order, verified, with nothing staged and nothing copied
// twice. A create that stops leaves FILE.partial and a journal, and a later
// create with Resume continues it; the result is byte-identical to an
// uninterrupted run. A bundle may be cut into volumes (FILE.000, FILE.001, …,
// `cat FILE.[0-9]* > FILE` restores it byte for byte; the listing `cat FILE.*`
// appends is recognised and ignored) with a FILE.sha256 sidecar.
//
// On the other side Open reads a bundle (one file, volumes, or any CTF ocm
// made) in place, Verify re-hashes it and checks its closure, Inspect lists
// it, and `ferry bundle import` runs the engine out of it (Bundle.Source).
// An Inventory of what a registry already holds, carried out of the air gap,
// makes the next bundle differential: it leaves out what the registry has.
package bundle
