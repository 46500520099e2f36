// Package ocireg stores component versions in any oci.Store the way the OCM
// v1 CLI lays them out (spec/ocm/INTEROP.md §2), so that `ocm` reads what
// ferry writes and ferry reads what `ocm` (v1 or v2) wrote.
//
// It sits between package component (the descriptor model, no I/O) and the
// stores: a registry (oci/remote) with a base such as
// "127.0.0.1:5000/ocm", or a CTF archive (package ctf) with the base "",
// whose repositories carry no host. The transfer engine reads source
// versions with Repository.Get, copies their local blobs
// (Version.LocalBlobs) like any other blob, computes the target manifest
// with Manifest to plan and to compare, and writes the target version with
// Repository.Write, which tags last.
//
// A component version is one image manifest in the repository
// <base>/component-descriptors/<component name>, tagged with the version
// ('+' written as ".build-"): config {"componentDescriptorLayer": …}, layer
// 0 a tar holding component-descriptor.yaml, then one layer per local blob
// annotated with the elements that use it, and the annotations
// software.ocm.componentversion and software.ocm.creator.
package ocireg
