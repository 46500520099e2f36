// Package cosign checks and makes cosign key-based signatures of OCI
// artifacts, in cosign's own formats, without Rekor, Fulcio or any network
// but the registry: what an air gap allows.
//
// It sits on both ends of ferry's flow. Before `ferry transfer` copies an
// image it may require, with Verify, that the image carries a signature that
// verifies with a public key the operator trusts; after ferry pushes an
// artifact of its own (the GitOps artifact of `localize --push`) it signs it
// with Sign, so that `cosign verify --key cosign.pub --insecure-ignore-tlog`
// and Flux's OCIRepository (`verify: {provider: cosign, secretRef: …}`)
// accept it on the far side. The signatures it finds and makes are the
// records a transfer's bill of materials keeps (Signature).
//
// The formats are cosign's (sigstore/cosign pkg/oci/static,
// pkg/oci/remote, pkg/cosign/verify.go; sigstore/sigstore
// pkg/signature/payload):
//
//   - An image's signatures live in an OCI image manifest tagged
//     "<alg>-<hex>.sig" (SignatureTag) in the image's own repository, or,
//     in cosign's experimental OCI 1.1 mode, in manifests that refer to the
//     image (subject) with artifact type ArtifactTypeSignature.
//   - Each layer of that manifest is one signature: the blob is the
//     simple-signing payload (MediaTypeSimpleSigning), and the annotation
//     AnnotationSignature holds the base64 signature over the payload bytes.
//   - The payload names the image by digest
//     ({"critical":{"identity":{"docker-reference":…},"image":{"docker-manifest-digest":…},"type":…},"optional":null}).
//   - ECDSA and RSA (PKCS #1 v1.5) sign the SHA-256 of the payload, Ed25519
//     the payload itself, as sigstore's LoadVerifier(key, crypto.SHA256)
//     checks them; that is what `cosign verify --key` and Flux use.
//
// Keys are PEM: public keys as PKIX "PUBLIC KEY" (or an X.509 certificate),
// private keys as PKCS #8, SEC 1, PKCS #1 or cosign's own password-encrypted
// "ENCRYPTED SIGSTORE PRIVATE KEY" (scrypt and NaCl secretbox), the file
// `cosign generate-key-pair` writes.
package cosign
