// Package startheap lets a short ferry run finish without collecting
// garbage. Imported for its side effect by ferry's main package only
// (never by a library package: a Go program that uses ferry's packages
// keeps its own collector settings).
//
// Go starts collecting when the heap reaches 4 MiB. ferry's dependencies
// (Helm, Kustomize, client-go, the JSON Schema compiler) allocate about that
// much while their packages initialise, so a run that reads a few manifests,
// such as a re-run that finds everything copied (about 10 MiB allocated in
// all), collected four times and took 46 ms on two cores, 40 ms without
// them. Until the first collection the heap may grow to
// Percent/100 × 4 MiB; from then on the collector runs at Go's default, so
// a long run's heap is bounded as before. The percent trades the one for
// the other: 300 spares the re-run its last collection, which cost 4-5 ms
// (measured interleaved, 60 runs each), and raises the peak resident memory
// of a transfer by about 3 MiB; 250 by about 2 MiB. A GOGC set in the
// environment is left alone.
//
// The package initialises before the heavy ones because Go initialises
// packages in import-path order once their imports are ready, and this one
// imports only the runtime.
package startheap

import (
	"os"
	"runtime"
	"runtime/debug"
)

// Percent is the GOGC in force until the first collection.
const Percent = 300

func init() {
	if _, set := os.LookupEnv("GOGC"); set {
		return
	}
	debug.SetGCPercent(Percent)
	// The sentinel is unreachable from the start, so the first collection
	// queues its finalizer, which restores the default.
	runtime.SetFinalizer(new(sentinel), func(*sentinel) { debug.SetGCPercent(100) })
}

// sentinel is big enough not to share a tiny-allocator block, whose
// finalizers may run late or never.
type sentinel [32]byte
