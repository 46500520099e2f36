package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"syscall"
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

// profile runs ferry's four cases once more, each with a ferry built with
// -tags ferrybench (cmd/ferry/profile.go) that writes a CPU and an
// allocation profile of the run into cfg.profiles: CASE.cpu.pprof and
// CASE.allocs.pprof, and the top of each as CASE.cpu.txt and
// CASE.allocs.txt (`go tool pprof -top`). These runs are not timed in the
// report: profiling costs a few per cent.
func (b *bench) profile(ctx context.Context) error {
	dir, err := filepath.Abs(b.cfg.profiles)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	bin := filepath.Join(b.cfg.work, "ferry-profiling")
	build := exec.CommandContext(ctx, "go", "build", "-tags", "ferrybench", "-o", bin, "./cmd/ferry")
	build.Env = append(os.Environ(), "GOTOOLCHAIN=local")
	if o, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("building ferry with -tags ferrybench (run the bench from the repository's root): %w: %s", err, o)
	}
	s := b.s
	s.ferry = bin
	b.logf("profiles of ferry's cases into %s", dir)
	run := func(c string, steps []step) error {
		env := append(slices.Clone(b.env),
			"FERRY_BENCH_CPUPROFILE="+filepath.Join(dir, c+".cpu.pprof"),
			"FERRY_BENCH_ALLOCPROFILE="+filepath.Join(dir, c+".allocs.pprof"))
		syscall.Sync()
		u, err := measure(ctx, env, b.log, steps)
		if err != nil {
			return fmt.Errorf("profiled %s: %w", c, err)
		}
		b.logf("profiled %s: %.2fs, %.1f MiB", c, u.Seconds, float64(u.PeakKiB)/1024)
		for _, kind := range []string{"cpu", "allocs"} {
			args := []string{"tool", "pprof", "-top", "-nodecount=40"}
			if kind == "allocs" {
				args = append(args, "-sample_index=alloc_space")
			}
			top := exec.CommandContext(ctx, "go", append(args, bin, filepath.Join(dir, c+"."+kind+".pprof"))...)
			o, err := top.Output()
			if err != nil {
				return fmt.Errorf("go tool pprof of %s: %w", c, err)
			}
			if err := os.WriteFile(filepath.Join(dir, c+"."+kind+".txt"), o, 0o644); err != nil {
				return err
			}
		}
		return nil
	}
	if err := b.dst.reset(ctx); err != nil {
		return err
	}
	if err := run(caseCopy, s.copySteps(toolFerry)); err != nil {
		return err
	}
	if err := run(caseRerun, s.copySteps(toolFerry)); err != nil {
		return err
	}
	if err := run(caseExport, s.exportSteps(toolFerry)); err != nil {
		return err
	}
	if err := b.dst.reset(ctx); err != nil {
		return err
	}
	if err := run(caseImport, s.importSteps(toolFerry)); err != nil {
		return err
	}
	return clearDir(s.out)
}
