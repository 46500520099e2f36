// Package faultproxy injects the faults of a slow, flaky link between ferry
// and a registry, for tests: error answers (500, 502, 503, 429 with
// Retry-After), connections reset in the middle of a blob, truncated bodies,
// slow bodies, wrong Content-Length headers, and uploads cut off part way.
//
// It sits outside ferry's flow, beside internal/registrytest: the transfer
// engine's fault tests put an Injector in front of a real in-process
// registry, either as an http.Handler wrapper
// (registrytest.WithHandlerWrapper(in.Wrap)) or as a reverse proxy on
// 127.0.0.1 (NewProxy) in front of any registry, and check that a transfer
// survives what a retrying client should survive and fails cleanly, naming
// what it was copying, when it cannot.
//
// Faults are chosen per request, deterministically: the decision is a
// function of the seed, the request's key (method, path and the parts of the
// query and body that say what is being moved; upload session IDs are left
// out) and how many requests with that key came before. The same seed and the
// same requests per key give the same faults, however the requests of
// different keys interleave. Every fault is logged (Injector.Faults) and
// counted (Injector.Stats) for test failure messages and measurements.
//
// Nothing in ferry's flow imports this package; only tests do.
package faultproxy
