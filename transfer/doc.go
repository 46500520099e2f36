// Package transfer is ferry's one copy engine.
//
// A transfer is planned, then run. NewPlan reads what is small (component
// descriptors and manifests) from the source and returns a Plan: every
// artifact with its source and target, every unique blob, every tag and
// rewritten access, as plain data that --dry-run prints and a bundle
// records. Run executes a Plan from any oci.Reader into any oci.Store: blobs
// first, in one bounded pool, each once however many artifacts share it
// (mounted across repositories where the target can), then manifests
// children first, then tags, then component descriptors last. An interrupted
// run therefore never leaves a tag pointing at missing content, and a re-run
// skips what is already there. Creating a bundle is a Run into a bundle
// store; importing one is a Run out of it.
package transfer
