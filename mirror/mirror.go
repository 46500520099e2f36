package mirror

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/oci"
	"github.com/ferry-oci/ferry/ocmtransfer"
)

// ErrUnknownFormat: a format other than containerd, crio, rke2 or idms.
var ErrUnknownFormat = errors.New("unknown mirror configuration format")

// ErrNotHostWide: containerd maps a whole upstream host to one mirror
// root, and the copies of a host's repositories do not share one.
var ErrNotHostWide = errors.New("the copies of an upstream host's repositories do not share one mirror root")

// ErrNoImages: there is nothing to mirror.
var ErrNoImages = errors.New("no image copies to configure")

// Format is a runtime configuration format.
type Format string

// The formats Write knows.
const (
	Containerd Format = "containerd" // <host>/hosts.toml per upstream host, for config_path (/etc/containerd/certs.d)
	CRIO       Format = "crio"       // a containers-registries.conf(5) drop-in (/etc/containers/registries.conf.d/)
	RKE2       Format = "rke2"       // /etc/rancher/rke2/registries.yaml (also k3s)
	IDMS       Format = "idms"       // an OpenShift config.openshift.io/v1 ImageDigestMirrorSet
)

// Formats lists every format, in the order Write documents them.
var Formats = []Format{Containerd, CRIO, RKE2, IDMS}

// ParseFormat reads a format name.
func ParseFormat(s string) (Format, error) {
	f := Format(strings.ToLower(s))
	if slices.Contains(Formats, f) {
		return f, nil
	}
	return "", fmt.Errorf("format %q: %w (want containerd, crio, rke2 or idms)", s, ErrUnknownFormat)
}

// Pair is an original repository and the repository its copy lives in.
type Pair struct {
	Source string `json:"source"` // "ghcr.io/stefanprodan/podinfo"
	Mirror string `json:"mirror"` // "registry.local:5000/air/stefanprodan/podinfo"
}

// FromPlan lists the image repositories a transfer plan copies by value
// (ociArtifact resources of its component versions) and where their copies
// land, sorted and without duplicates. Copies into a CTF are not in a
// registry and are left out.
func FromPlan(p *ocmtransfer.Plan) []Pair {
	var out []Pair
	for _, cv := range p.Components {
		for _, r := range cv.Resources {
			if r.How != "by value" || r.From.Kind() != component.AccessOCIArtifact || r.To.Kind() != component.AccessOCIArtifact {
				continue
			}
			from, err1 := r.From.OCIArtifact()
			to, err2 := r.To.OCIArtifact()
			if err1 != nil || err2 != nil {
				continue
			}
			src, ok1 := repoOf(from.ImageReference)
			dst, ok2 := repoOf(to.ImageReference)
			if ok1 && ok2 && src != dst {
				out = append(out, Pair{Source: src, Mirror: dst})
			}
		}
	}
	return sortPairs(out)
}

// FromOrigins lists the images a plan copies whose original repository
// origins names by digest (an offline bundle's metadata records where each
// image was read from: bundle.Artifact.Source), with the repositories the
// plan copies them to. Origins that name no registry (images that came
// from an archive) are left out.
func FromOrigins(p *ocmtransfer.Plan, origins map[v1.Hash]string) []Pair {
	var out []Pair
	for _, a := range p.Artifacts {
		if a.Attachment != "" {
			continue
		}
		origin, ok := origins[a.Digest]
		if !ok || !inRegistry(origin) {
			continue
		}
		if src, ok := repoOf(origin); ok && src != a.Target {
			out = append(out, Pair{Source: src, Mirror: a.Target})
		}
	}
	return sortPairs(out)
}

// inRegistry reports whether a repository names its registry (a first
// element with a '.' or ':', or localhost).
func inRegistry(repo string) bool {
	first, _, ok := strings.Cut(repo, "/")
	return ok && (strings.ContainsAny(first, ".:") || first == "localhost")
}

func sortPairs(out []Pair) []Pair {
	sort.Slice(out, func(i, j int) bool {
		if out[i].Source != out[j].Source {
			return out[i].Source < out[j].Source
		}
		return out[i].Mirror < out[j].Mirror
	})
	return slices.Compact(out)
}

func repoOf(ref string) (string, bool) {
	if _, rest, ok := strings.Cut(ref, "://"); ok {
		ref = rest
	}
	r, err := oci.ParseRef(ref)
	if err != nil {
		return "", false
	}
	return r.WithDefaultRegistry().Repo(), true
}

// Options tune the configuration.
type Options struct {
	// PlainHTTP says the mirror registry speaks plain HTTP (a loopback or
	// lab registry); the default is HTTPS.
	PlainHTTP bool
	// Name names the ImageDigestMirrorSet (a DNS subdomain); default
	// "ferry-mirrors".
	Name string
}

// File is one file of a configuration, by slash path relative to the
// output directory.
type File struct {
	Path string
	Data []byte
}

// Generate returns the files of format f for pairs.
func Generate(f Format, pairs []Pair, o Options) ([]File, error) {
	if len(pairs) == 0 {
		return nil, ErrNoImages
	}
	switch f {
	case Containerd:
		return containerd(pairs, o)
	case CRIO:
		return []File{{Path: "registries.conf", Data: crio(pairs, o)}}, nil
	case RKE2:
		return []File{{Path: "registries.yaml", Data: rke2(pairs, o)}}, nil
	case IDMS:
		return []File{{Path: "imagedigestmirrorset.yaml", Data: idms(pairs, o)}}, nil
	}
	return nil, fmt.Errorf("format %q: %w", f, ErrUnknownFormat)
}

// Write writes the files of format f for pairs into dir (created when
// missing) and returns their paths.
func Write(dir string, f Format, pairs []Pair, o Options) ([]string, error) {
	files, err := Generate(f, pairs, o)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, file := range files {
		p := filepath.Join(dir, filepath.FromSlash(file.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return out, err
		}
		tmp := p + ".tmp"
		if err := os.WriteFile(tmp, file.Data, 0o644); err != nil {
			return out, err
		}
		if err := os.Rename(tmp, p); err != nil {
			return out, err
		}
		out = append(out, p)
	}
	return out, nil
}

// hostGroup is the pairs of one upstream host.
type hostGroup struct {
	host  string
	pairs []Pair
	// root is the mirror root every copy of the host shares (the copy of
	// host/x/y is root/x/y); "" when they share none.
	root string
}

func groupByHost(pairs []Pair) []hostGroup {
	var out []hostGroup
	idx := map[string]int{}
	for _, p := range pairs {
		host, _, _ := strings.Cut(p.Source, "/")
		i, ok := idx[host]
		if !ok {
			i = len(out)
			idx[host] = i
			out = append(out, hostGroup{host: host})
		}
		out[i].pairs = append(out[i].pairs, p)
	}
	for i := range out {
		g := &out[i]
		for j, p := range g.pairs {
			_, path, _ := strings.Cut(p.Source, "/")
			root, ok := strings.CutSuffix(p.Mirror, "/"+path)
			if !ok || j > 0 && root != g.root {
				g.root = ""
				break
			}
			g.root = root
		}
	}
	return out
}

// splitHost splits "host[:port]/path" into its host and path.
func splitHost(repo string) (string, string) {
	h, p, _ := strings.Cut(repo, "/")
	return h, p
}

func (o Options) scheme() string {
	if o.PlainHTTP {
		return "http"
	}
	return "https"
}

// upstreamServer is the URL containerd uses for a host when no mirror
// answers: Docker Hub's API lives at registry-1.docker.io.
func upstreamServer(host string) string {
	if host == "docker.io" {
		return "https://registry-1.docker.io"
	}
	return "https://" + host
}

func sortStrings(s []string) { sort.Strings(s) }
