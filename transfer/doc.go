// Package transfer is ferry's one copy engine: it plans and runs the copy
// of OCI artifacts between any two oci stores, and knows nothing of OCM.
//
// A transfer is planned, then run. A Planner reads what is small (the
// manifests) from the source and builds a Plan: every artifact with its
// source and target, every unique blob, every tag, as plain data that
// --dry-run prints and a bundle records. Run executes a Plan from any
// oci.Reader into any oci.Store: blobs first, in one bounded pool, each
// once however many artifacts share it (mounted across repositories where
// the target can), then manifests children first, then tags, then what an
// Options.Finish writes last (the component versions of ocmtransfer). An
// interrupted run therefore never leaves a tag pointing at missing
// content, and a re-run skips what is already there. Creating a bundle is
// a Run into a bundle store; importing one is a Run out of it.
package transfer
