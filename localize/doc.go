// Package localize points a component's Kubernetes manifests at the copies
// of its images in the target registry: the step after `ferry transfer` (or
// `bundle import`) and before the GitOps artifact (package gitops) is pushed.
//
// Input is the tree of the component's manifests resource (ReadArchive reads
// the untrusted tar or tgz; ReadFS a directory), the localization rules of
// its ConfigData resource (ParseRules; ocm-controller's format, INTEROP §6)
// and the component's image resources after transfer (Images, built by the
// CLI from the transferred descriptors). Localize applies the rules, or with
// Options.Auto rewrites every workload image field that names an original
// image, and then proves the air-gap closure: every image field of every
// workload must name a copy (Coverage).
//
// Rule values follow ocm-controller (go-containerregistry's reference
// semantics: Docker Hub defaults, ports), except that the copy's tag is
// kept unless Options.PinDigest asks for the digest ("repo@sha256:…" for
// image, the digest for tag, as ocm-controller writes a reference with a
// digest). A tag path with a `digest` key beside it (a chart's image.digest)
// keeps the tag and the digest goes there; a repository value that names a
// registry host gets the whole name. In a kustomization, an image rule may
// name an `images:` entry, whose newName, newTag and digest are set (see
// kustomization.go). Paths are yq-style (Path), but only select: a path that
// matches nothing is an error, never a silent skip or a created key.
//
// Charts and Kustomize trees are rendered before the proof: packages
// localize/helm and localize/kustomize render them with Helm's and
// kustomize's own libraries and run Check on the output.
//
// Files are rewritten in place: the documents are decoded with the YAML
// parser kyaml is built on (go.yaml.in/yaml/v3), node positions locate each
// scalar in the original bytes, and only those scalars are replaced, keeping
// their quoting. kyaml's kio.ByteReader/ByteWriter are not used because a
// round trip through them re-encodes every document (indentation of
// sequences, blank lines, line folding, CRLF) and its reader unwraps List
// documents and adds index annotations; splicing keeps everything that is
// not a rewritten scalar byte for byte, in every document of a file.
package localize
