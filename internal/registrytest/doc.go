// Package registrytest starts a real CNCF distribution registry in the test process, on
// 127.0.0.1, for the tests of every package that talks to a registry (oci/remote,
// component/ocireg, transfer, bundle import, the CLI).
//
// It is test support only: nothing in ferry's flow imports it outside _test.go files. The
// registry is distribution's own app, configured through internal/serve (the same code
// `ferry serve` runs), with in-memory storage by default, optional TLS from a CA made per
// test, optional htpasswd basic auth, a request log, and a hook to put fault injectors in
// front. Distribution's logging is silenced.
package registrytest
