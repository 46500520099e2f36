// Package gitops builds, pushes and pulls the GitOps artifact: the OCI
// artifact that carries a tree of localized manifests (package localize) to
// the cluster, where Flux (OCIRepository), Argo CD (3.1+, an oci:// source)
// or Config Sync (sourceType: oci) deploys it. It is the last step of
// `ferry localize --push` and the whole of `ferry artifact push/pull`.
//
// The artifact is one OCI image manifest with one gzip tar layer
// (application/vnd.oci.image.layer.v1.tar+gzip) and the OCI empty config,
// annotated with org.opencontainers.image.{source,revision,created}; Format
// "flux" writes Flux's media types instead. Build is deterministic: the same
// files and options give the same digest on any machine and in any time
// zone. Push and Pull go through the oci.Store seam; Pull verifies the layer
// against its digest and unpacks it with the checks of localize.ReadArchive.
// See docs/gitops.md for the controllers' side.
package gitops
