package cosign

import "crypto"

// SignBlob signs blob as `cosign sign-blob --key` does (see VerifyBlob for
// the scheme of each key type). The signature is raw; cosign writes it in
// base64.
func SignBlob(key crypto.Signer, blob []byte) ([]byte, error) { return signPayload(key, blob) }

// VerifyBlob reports whether sig is a signature of blob by pub, as `cosign
// verify-blob --key` checks it.
func VerifyBlob(pub crypto.PublicKey, blob, sig []byte) bool { return verifySignature(pub, blob, sig) }
