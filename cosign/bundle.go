package cosign

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Names of cosign 3's signatures: a Sigstore bundle kept as an OCI 1.1
// referrer of the image (in registries without the referrers API, listed
// in the index tagged sha256-<hex>), whose only layer is the bundle JSON
// holding a DSSE envelope around an in-toto statement about the image.
const (
	// ArtifactTypeBundle is the artifact type (and layer media type) of a
	// Sigstore bundle referrer.
	ArtifactTypeBundle = "application/vnd.dev.sigstore.bundle.v0.3+json"
	// PredicateTypeSign is the predicate type of the statement `cosign
	// sign` signs; attestations carry others and are not signatures.
	PredicateTypeSign = "https://sigstore.dev/cosign/sign/v1"
	// PayloadTypeInToto is the DSSE payload type of an in-toto statement.
	PayloadTypeInToto = "application/vnd.in-toto+json"
)

// sigstoreBundle is what Verify reads of a Sigstore bundle (protobuf-specs
// Bundle, JSON form): the DSSE envelope. Verification material (the key
// hint, certificates) and transparency-log entries are not used: the key
// given is the trust, as with `cosign verify --key --insecure-ignore-tlog`.
type sigstoreBundle struct {
	MediaType    string `json:"mediaType"`
	DSSEEnvelope *struct {
		Payload     string `json:"payload"`
		PayloadType string `json:"payloadType"`
		Signatures  []struct {
			Sig string `json:"sig"`
		} `json:"signatures"`
	} `json:"dsseEnvelope"`
}

// statement is what Verify reads of an in-toto statement.
type statement struct {
	Type    string `json:"_type"`
	Subject []struct {
		Digest map[string]string `json:"digest"`
	} `json:"subject"`
	PredicateType string `json:"predicateType"`
}

// pae is DSSE's pre-authentication encoding of a payload: what a DSSE
// signature signs.
func pae(payloadType string, payload []byte) []byte {
	var b bytes.Buffer
	b.WriteString("DSSEv1 ")
	b.WriteString(strconv.Itoa(len(payloadType)))
	b.WriteByte(' ')
	b.WriteString(payloadType)
	b.WriteByte(' ')
	b.WriteString(strconv.Itoa(len(payload)))
	b.WriteByte(' ')
	b.Write(payload)
	return b.Bytes()
}

// decodeBase64 reads standard or URL-safe base64, padded or not, as DSSE
// allows.
func decodeBase64(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("not base64")
}

// verifyBundle checks a Sigstore bundle read from a referrer: one of the
// envelope's signatures verifies over the DSSE encoding with one of keys
// (index returned), and the statement is cosign's signature of digest.
func verifyBundle(b []byte, digest v1.Hash, verify func(msg, sig []byte) (int, bool)) (payload []byte, sig string, key int, err error) {
	var sb sigstoreBundle
	if err := json.Unmarshal(b, &sb); err != nil {
		return nil, "", 0, fmt.Errorf("decoding the Sigstore bundle: %w", err)
	}
	env := sb.DSSEEnvelope
	if env == nil {
		return nil, "", 0, errors.New("the Sigstore bundle holds no DSSE envelope (not an image signature)")
	}
	payload, err = decodeBase64(env.Payload)
	if err != nil {
		return nil, "", 0, fmt.Errorf("decoding the DSSE payload: %w", err)
	}
	msg := pae(env.PayloadType, payload)
	key = -1
	for _, s := range env.Signatures {
		raw, err := decodeBase64(s.Sig)
		if err != nil {
			continue
		}
		if k, ok := verify(msg, raw); ok {
			key, sig = k, s.Sig
			break
		}
	}
	if key < 0 {
		return nil, "", 0, errors.New("signature does not verify with the key")
	}
	if env.PayloadType != PayloadTypeInToto {
		return nil, "", 0, fmt.Errorf("DSSE payload type %q, want %q", env.PayloadType, PayloadTypeInToto)
	}
	var st statement
	if err := json.Unmarshal(payload, &st); err != nil {
		return nil, "", 0, fmt.Errorf("decoding the in-toto statement: %w", err)
	}
	if st.PredicateType != PredicateTypeSign {
		return nil, "", 0, fmt.Errorf("predicate type %q is not cosign's signature (%s): an attestation, not a signature", st.PredicateType, PredicateTypeSign)
	}
	for _, s := range st.Subject {
		if s.Digest[digest.Algorithm] == digest.Hex {
			return payload, sig, key, nil
		}
	}
	return nil, "", 0, fmt.Errorf("the statement's subjects do not name %s", digest)
}
