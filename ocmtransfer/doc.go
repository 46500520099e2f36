// Package ocmtransfer plans and runs the transfer of OCM component versions
// between repositories: descriptors, access relocation, artifact sets, OCM
// v2 indexes, signature and digest gates, BOM — over the generic engine in
// transfer.
//
// NewPlan reads the component versions (and, with Recursive, those they
// reference), plans every resource's content through a transfer.Planner
// and rewrites each access to where the content lands; the result is a
// Plan, the engine's plan with the component versions to write, as plain
// data that --dry-run prints and a bundle records. Run executes it with
// transfer.Run and writes the component versions last, each after
// everything it names is in the target. SourceReader is the source side:
// the store of the versions, the registries their images live in and the
// artifact sets opened while planning, as one oci.Reader.
package ocmtransfer
