// Package remote is the oci.Store over OCI registries: the source and the
// destination of `ferry transfer`, the target of `bundle import` and of
// `localize --push`, and the place component/ocireg reads and writes
// component versions when a reference names a registry.
//
// One Store serves any number of registries: every repository it is given
// carries its host ("127.0.0.1:5000/air/podinfo"). It speaks the
// distribution API (OCI distribution spec 1.1) itself, over an HTTP stack
// built once in New:
//
//	go-containerregistry auth (basic, or bearer tokens per registry and scope, cached)
//	  └ retries with backoff for replayable requests (5xx, 408, 429, resets)
//	    └ debug log of each attempt (no credentials)
//	      └ plain-HTTP guard (loopback or WithPlainHTTP only)
//	        └ the base transport (TLS 1.2+, verified; or WithTransport)
//
// Blobs stream through oci.VerifyReader on the way up, so content that is
// not what its descriptor says never completes an upload. Every failure is
// an *oci.Error wrapping the sentinel that fits (oci.ErrNotFound,
// oci.ErrUnauthorized, …) and, for a request that failed, a *RequestError
// naming the registry, the status and the registry's error code.
package remote
