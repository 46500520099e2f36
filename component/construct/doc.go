// Package construct builds OCM component versions from a
// component-constructor.yaml, the file `ocm add componentversions` reads
// (INTEROP §7). It is the library behind
// `ferry component create -f component-constructor.yaml --to REPO`.
//
// It sits at the very start of ferry's flow, before anything is stored:
//
//	Parse(constructor bytes) → []Spec → Build(ctx, spec) → Result{Descriptor, Blobs}
//	                                                        └→ component/ocireg or a CTF writes them
//
// Parse applies OCM's default "subst" templater (${VAR}) to the text, reads
// one component, a `components:` list, or several YAML documents, and rejects
// every field it does not know, naming the file, line and field path.
//
// Build turns a Spec into a validated *component.Descriptor plus the local
// blobs made from the resources' (and sources') inputs: file, dir, utf8 and
// binary. Blobs are never held in memory whole: a Blob's content is produced
// again on every Open (a file is re-read, a directory re-packed), hashed
// once while Build computes the digest and once more when the caller writes
// it; the writer's own digest check (oci.Writer.Push) then catches a file
// that changed in between. Inline inputs (utf8, binary) are small and kept
// as bytes. Resources with an ociArtifact access get their digest from the
// registry through an oci.Reader the caller passes.
//
// Where OCM's documentation and code differ, construct follows the code of
// OCM v1 (commit 0e26b7fe), noted at each place: includeFiles/excludeFiles
// are shell patterns (path.Match), not the regular expressions the help text
// promises; the tar of a dir input is packed in OCM's order and layout with
// headers normalised (fixed mtime, no owner names) so that the same files
// always give the same blob.
package construct
