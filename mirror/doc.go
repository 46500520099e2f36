// Package mirror writes the configuration that tells a node's container
// runtime to pull a release's images from their private copies: containerd
// hosts.toml files (one per upstream host), a CRI-O registries.conf drop-in,
// an RKE2 registries.yaml and an OpenShift ImageDigestMirrorSet. Workloads
// that name the original images (an operator that starts pods with images
// no manifest names) then pull from the private registry all the same.
//
// The input is a list of Pairs (an original repository and its copy), taken
// from a transfer plan with FromPlan, so the copies are named by the same
// rule the transfer used.
package mirror
