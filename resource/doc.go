// Package resource reaches the content of a component version's resources,
// wherever their access says it is: a local blob of the version, an image
// in a registry (ociArtifact), an image beside the version in the same
// store (relativeOciReference), or an image stored by value inside a local
// blob (an OCM artifact set).
//
// It sits between component/ocireg (which reads versions) and the packages
// that use what the resources hold: the transfer engine (which copies and
// re-digests them), localize (which reads the manifests resource) and the
// CLI's download, sign and verify.
package resource
