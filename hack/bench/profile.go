package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/ferry-oci/ferry/internal/cli"
)

// runProfile is the "profile" subcommand: ferry has no profiling flag, so
//
//	bench profile -cpu cpu.pprof -heap heap.pprof -- transfer SRC DST
//
// runs ferry's command line in this process (the same code bin/ferry runs)
// under runtime/pprof and writes a CPU profile and, at the end, a heap
// profile (in-use and allocated). Read them with `go tool pprof -top`.
func runProfile(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("profile", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cpu := fs.String("cpu", "cpu.pprof", "CPU profile to write")
	heap := fs.String("heap", "", "heap profile to write at the end (\"\" for none)")
	rate := fs.Int("memrate", 0, "runtime.MemProfileRate while running (0 keeps Go's default)")
	n := fs.Int("n", 1, "run the command this many times (for short ones: more samples)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "usage: bench profile [-cpu FILE] [-heap FILE] -- FERRY-ARGS...")
		return 2
	}
	if *rate > 0 {
		runtime.MemProfileRate = *rate
	}
	f, err := os.Create(*cpu)
	if err != nil {
		fmt.Fprintf(stderr, "bench profile: %v\n", err)
		return 1
	}
	defer f.Close()
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintf(stderr, "bench profile: %v\n", err)
		return 1
	}
	start := time.Now()
	code := 0
	for i := 0; i < *n && code == 0; i++ {
		code = cli.Execute(ctx, fs.Args(), stdout, stderr)
	}
	el := time.Since(start) / time.Duration(max(*n, 1))
	pprof.StopCPUProfile()
	if *heap != "" {
		h, err := os.Create(*heap)
		if err == nil {
			err = pprof.Lookup("allocs").WriteTo(h, 0)
			h.Close()
		}
		if err != nil {
			fmt.Fprintf(stderr, "bench profile: %v\n", err)
			return 1
		}
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Fprintf(stderr, "bench profile: ferry exited %d after %s a run; %d MiB allocated in all, heap peak goal %d MiB, %d GCs\n",
		code, el.Round(time.Millisecond), ms.TotalAlloc>>20, ms.NextGC>>20, ms.NumGC)
	return code
}
