// Package component is ferry's model of an OCM component descriptor: the
// document that names a release, its resources (images, manifests,
// configuration), its sources and the other components it references.
//
// It sits at the start of ferry's flow: component/ocireg reads descriptor
// bytes from a store and calls Decode; transfer plans from the Descriptor,
// rewrites resource accesses and calls Encode to write the copy; the CLI
// signs and verifies with Sign and Verify. The package is pure: no network,
// no disk.
//
// The contract is byte compatibility with the OCM v1 CLI
// (spec/ocm/INTEROP.md):
//   - Decode reads schema v2 and ocm.software/v3alpha1 in YAML or JSON
//     (§1.1), validates against the official JSON schemas and OCM's semantic
//     rules (§1.4), and remembers the scheme;
//   - Encode and EncodeJSON write as OCM v1 writes (§1.2, §1.3), in either
//     scheme, so converting is decoding in one and encoding in the other;
//   - Normalise and DescriptorDigest implement jsonNormalisation/v1, v2 and
//     v3 (§5.4); GenericBlobDigest and OCIArtifactDigest the resource
//     digests (§5.2);
//   - Sign and Verify implement RSASSA-PKCS1-V1_5 and RSASSA-PSS signatures
//     over the descriptor digest (§5.5).
package component
