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
// semantics: Docker Hub defaults, ports, and a reference with tag and digest
// giving "repo@sha256:…" for image and the digest for tag). Paths are
// yq-style (Path), but only select: a path that matches nothing is an error,
// never a silent skip or a created key.
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
