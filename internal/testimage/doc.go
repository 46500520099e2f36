// Package testimage builds container images in process, deterministically,
// for ferry's tests, for `make demo` and for `make bench`.
//
// It sits outside ferry's flow, on its input side: it makes the images that
// a release points at, so that transfer, bundle and localize have real
// content to carry without the internet. Everything is a pure function of
// its inputs (no wall clock, no map order, no machine state): the same seed
// gives the same digests on any machine and with any Go release, which lets
// tests pin digests and benchmarks compare runs.
//
// A Layer is a real gzip'd tar holding one file of incompressible bytes from
// a ChaCha8 stream seeded by (Seed, Size). Its bytes are generated on demand
// and never held whole in memory, so a corpus of gigabytes costs no more
// memory than one of kilobytes. The gzip stream uses deflate's "stored"
// blocks, written by this package itself: random data does not compress, the
// output is defined by the format alone (not by a compressor's heuristics),
// and its size is known without generating it.
//
// An Image (one platform: config, layers, manifest; OCI media types, or
// Docker's with Image.Docker) and an Index (images for several platforms)
// are Artifacts. Push writes an Artifact through the oci.Writer seam, blobs
// first, then manifests children first, then the tag, so it works on any
// Store: a registry (oci/remote), a CTF archive or a bundle. A Pusher (and
// Set.Push) pushes many artifacts into one store, mounting layers that an
// earlier repository received when the store can.
//
// Sample is the release `make demo` carries (podinfo 6.3.5 and 6.3.6,
// busybox 1.36; a few KiB). Corpus is the seeded set of images `make bench`
// copies (about 1 GiB by default), with the sharing real releases have; see
// Corpus and Set.Stats. The command hack/seed pushes either into a registry.
package testimage
