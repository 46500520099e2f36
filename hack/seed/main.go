// Command seed pushes the images ferry's demo and benchmark carry into a
// registry, made in process by internal/testimage (no internet needed):
//
//	go run ./hack/seed -registry 127.0.0.1:5001 -sample
//	go run ./hack/seed -registry 127.0.0.1:5001 -corpus small -seed 1
//	go run ./hack/seed -registry registry.lab:5000 -plain-http -prefix src -corpus 2GiB
//
// -sample pushes the demo release (stefanprodan/podinfo:6.3.5 and 6.3.6,
// library/busybox:1.36). -corpus pushes the benchmark corpus of that size
// (small ~50 MiB, default ~1 GiB, or a number of bytes with an optional
// unit), seeded by -seed: the same seed gives the same digests anywhere.
// Each pushed reference is printed as REF@DIGEST on stdout; totals and
// timing go to stderr. Exit status: 0 done, 1 a push failed, 2 bad usage.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/ferry-oci/ferry/internal/human"
	"github.com/ferry-oci/ferry/internal/testimage"
	"github.com/ferry-oci/ferry/oci"
	"github.com/ferry-oci/ferry/oci/remote"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// newStore is the one place that chooses the Store seed pushes into.
func newStore(plainHTTP bool) (oci.Store, error) {
	return remote.New(remote.WithPlainHTTP(plainHTTP))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	fs.SetOutput(stderr)
	registry := fs.String("registry", "", "registry host[:port] to push to (required)")
	prefix := fs.String("prefix", "", "repository path under the registry to push beneath, e.g. \"src\"")
	plainHTTP := fs.Bool("plain-http", false, "allow plain HTTP (always allowed to loopback hosts)")
	corpus := fs.String("corpus", "", "push the benchmark corpus: small, default or a size (\"2GiB\", bytes)")
	seed := fs.Int64("seed", 1, "seed of the corpus")
	sample := fs.Bool("sample", false, "push the demo release (podinfo 6.3.5, 6.3.6, busybox 1.36)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	usage := func(msg string) int {
		fmt.Fprintf(stderr, "seed: %s\n", msg)
		fs.Usage()
		return 2
	}
	if *registry == "" || strings.Contains(*registry, "/") {
		return usage("-registry wants a host[:port]")
	}
	if fs.NArg() > 0 {
		return usage(fmt.Sprintf("unexpected arguments %q", fs.Args()))
	}
	var set testimage.Set
	if *sample {
		set = append(set, testimage.Sample()...)
	}
	if *corpus != "" {
		size, err := testimage.ParseSize(*corpus)
		if err != nil {
			return usage(err.Error())
		}
		set = append(set, testimage.Corpus(*seed, size)...)
	}
	if len(set) == 0 {
		return usage("nothing to push: give -sample, -corpus or both")
	}

	store, err := newStore(*plainHTTP)
	if err != nil {
		fmt.Fprintf(stderr, "seed: %v\n", err)
		return 1
	}
	base := *registry
	if p := strings.Trim(*prefix, "/"); p != "" {
		base += "/" + p
	}
	st := set.Stats()
	fmt.Fprintf(stderr, "seed: pushing %s to %s\n", st, base)
	start := time.Now()
	p := testimage.NewPusher(store)
	for _, n := range set {
		repo := n.Repo(base)
		d, err := p.Push(ctx, repo, n.Tag, n.Artifact)
		if err != nil {
			fmt.Fprintf(stderr, "seed: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "%s:%s@%s\n", repo, n.Tag, d.Digest)
	}
	el := time.Since(start)
	line := fmt.Sprintf("seed: pushed %s (%s of unique layer bytes) in %s", human.Count(len(set), "artifact"), human.Bytes(st.UniqueBytes), el.Round(time.Millisecond))
	if r := human.Rate(st.UniqueBytes, el); r != "" {
		line += ", " + r
	}
	fmt.Fprintln(stderr, line)
	return 0
}
