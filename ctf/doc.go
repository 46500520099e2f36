// Package ctf reads and writes OCM's Common Transport Format (CTF), the
// archive `ocm` and ferry carry component versions and images in, as an
// oci.Store.
//
// A CTF is an OCI store serialised to files (INTEROP.md §3.1): an
// artifact-index.json listing every manifest by repository, tag and digest,
// and a flat blobs/ directory holding every manifest, config and layer once
// as blobs/<algorithm>.<hex>. Repositories inside a CTF carry no host
// (a component's repository by OCM's naming, "stefanprodan/podinfo").
//
// In ferry's flow a CTF is both ends of a copy: `ferry bundle create` runs the
// transfer engine into a CTF written as a tar (Create), `ferry bundle import`
// and `ferry transfer` run it out of one (Open), and component/ocireg stores
// component versions in it as it does in a registry. Archives are untrusted:
// Open checks every entry name, type and size before it serves anything (see
// Open for the rules), and callers verify what Fetch streams with
// oci.VerifyReader.
//
// The package also reads OCM "artifact sets" (INTEROP.md §3.3), the tgz
// local blobs in which `ocm transfer --copy-resources` stores an image by
// value inside a CTF; OpenArtifactSet turns one into an oci.Reader so the
// transfer engine can push the image into a registry as a real OCI artifact.
package ctf
