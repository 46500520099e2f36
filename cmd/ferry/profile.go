//go:build ferrybench

package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
)

// A ferry built with -tags ferrybench (hack/bench builds one for its
// profiles; release builds never have this file) writes pprof profiles of
// the whole run when these variables name files:
//
//	FERRY_BENCH_CPUPROFILE    CPU profile
//	FERRY_BENCH_ALLOCPROFILE  allocations (the "allocs" profile), at exit
func init() {
	startProfile = func() func() {
		cpu, allocs := os.Getenv("FERRY_BENCH_CPUPROFILE"), os.Getenv("FERRY_BENCH_ALLOCPROFILE")
		if allocs != "" {
			runtime.MemProfileRate = 1 // every allocation the run makes (the packages' initialisation is over)
		}
		var f *os.File
		if cpu != "" {
			var err error
			if f, err = os.Create(cpu); err == nil {
				err = pprof.StartCPUProfile(f)
			}
			if err != nil {
				fmt.Fprintf(os.Stderr, "ferry: FERRY_BENCH_CPUPROFILE: %v\n", err)
				f = nil
			}
		}
		return func() {
			if f != nil {
				pprof.StopCPUProfile()
				f.Close()
			}
			if allocs != "" {
				runtime.GC()
				a, err := os.Create(allocs)
				if err == nil {
					err = pprof.Lookup("allocs").WriteTo(a, 0)
					if cerr := a.Close(); err == nil {
						err = cerr
					}
				}
				if err != nil {
					fmt.Fprintf(os.Stderr, "ferry: FERRY_BENCH_ALLOCPROFILE: %v\n", err)
				}
			}
		}
	}
}
