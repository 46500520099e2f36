package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/sync/errgroup"
)

// blobFile is one blob of a distribution filesystem root.
type blobFile struct {
	Digest string // "sha256:<hex>"
	Path   string
	Size   int64
	Repo   string // a repository the blob is linked into, "" if none
	// Manifest is set when Repo holds the blob only as a manifest, which a
	// registry serves from /manifests/, not /blobs/.
	Manifest bool
}

// registryBlobs lists the blobs a `ferry serve --root ROOT` registry holds
// (ROOT/docker/registry/v2/blobs/sha256/xx/<hex>/data), sorted by digest.
func registryBlobs(root string) ([]blobFile, error) {
	dir := filepath.Join(root, "docker", "registry", "v2", "blobs")
	var out []blobFile
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || d.Name() != "data" {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		hexDir := filepath.Dir(p)
		alg := filepath.Base(filepath.Dir(filepath.Dir(hexDir)))
		out = append(out, blobFile{Digest: alg + ":" + filepath.Base(hexDir), Path: p, Size: info.Size()})
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("listing blobs of %s: %w", root, err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Digest < out[j].Digest })
	// A registry serves a blob only from a repository it is linked into:
	// repositories/<repo>/_layers/<alg>/<hex>/link (configs and layers) or
	// _manifests/revisions/<alg>/<hex>/link.
	type link struct {
		repo     string
		manifest bool
	}
	repos := map[string]link{}
	rdir := filepath.Join(root, "docker", "registry", "v2", "repositories")
	err = filepath.WalkDir(rdir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() != "link" {
			return err
		}
		rel, err := filepath.Rel(rdir, p)
		if err != nil {
			return err
		}
		parts := strings.Split(filepath.ToSlash(rel), "/")
		for i := range parts {
			layer := parts[i] == "_layers" && len(parts) == i+4
			if layer || (parts[i] == "_manifests" && len(parts) == i+5 && parts[i+1] == "revisions") {
				dg := parts[len(parts)-3] + ":" + parts[len(parts)-2]
				if l, ok := repos[dg]; !ok || (l.manifest && layer) {
					repos[dg] = link{repo: strings.Join(parts[:i], "/"), manifest: !layer}
				}
				break
			}
		}
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("listing repositories of %s: %w", root, err)
	}
	for i := range out {
		l := repos[out[i].Digest]
		out[i].Repo, out[i].Manifest = l.repo, l.manifest
	}
	return out, nil
}

// blobBytes sums the sizes of the blobs a registry root holds.
func blobBytes(root string) (int64, error) {
	bs, err := registryBlobs(root)
	var n int64
	for _, b := range bs {
		n += b.Size
	}
	return n, err
}

// uploadBlobs is the floor of a registry upload: each blob once, as a plain
// HTTP client sends it with the distribution API's monolithic upload
// (POST /v2/<repo>/blobs/uploads/, then PUT <location>?digest=<digest> with
// the whole body), jobs at a time. It checks nothing and retries nothing.
func uploadBlobs(ctx context.Context, client *http.Client, host, repo string, blobs []blobFile, jobs int) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(max(jobs, 1))
	for _, b := range blobs {
		g.Go(func() error { return uploadBlob(ctx, client, host, repo, b) })
	}
	return g.Wait()
}

func uploadBlob(ctx context.Context, client *http.Client, host, repo string, b blobFile) error {
	f, err := os.Open(b.Path)
	if err != nil {
		return err
	}
	defer f.Close()
	return putBlob(ctx, client, host, repo, b, f)
}

// putBlob uploads body as blob b: POST, then one monolithic PUT.
func putBlob(ctx context.Context, client *http.Client, host, repo string, b blobFile, body io.Reader) error {
	start := "http://" + host + "/v2/" + repo + "/blobs/uploads/"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, start, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("starting upload of %s: %w", b.Digest, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("starting upload of %s: %s", b.Digest, resp.Status)
	}
	loc, err := resp.Location()
	if err != nil {
		return fmt.Errorf("starting upload of %s: %w", b.Digest, err)
	}
	q := loc.Query()
	q.Set("digest", b.Digest)
	loc.RawQuery = q.Encode()

	req, err = http.NewRequestWithContext(ctx, http.MethodPut, loc.String(), body)
	if err != nil {
		return err
	}
	req.ContentLength = b.Size
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err = client.Do(req)
	if err != nil {
		return fmt.Errorf("uploading %s: %w", b.Digest, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("uploading %s: %s", b.Digest, resp.Status)
	}
	return nil
}

// relayBlobs is the floor of a registry-to-registry copy: each blob once,
// a plain GET from the source piped into a monolithic upload to the target
// (POST, then PUT with the response body), jobs at a time. It checks
// nothing: no digest, no size beyond the Content-Length the source sent.
func relayBlobs(ctx context.Context, client *http.Client, src, dst, repo string, blobs []blobFile, jobs int) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(max(jobs, 1))
	for _, b := range blobs {
		if b.Repo == "" {
			continue
		}
		g.Go(func() error {
			resp, err := getBlob(ctx, client, src, b)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			return putBlob(ctx, client, dst, repo, b, resp.Body)
		})
	}
	return g.Wait()
}

// getBlob GETs blob b from a repository it is linked into.
func getBlob(ctx context.Context, client *http.Client, host string, b blobFile) (*http.Response, error) {
	kind := "/blobs/"
	if b.Manifest {
		kind = "/manifests/"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+host+"/v2/"+b.Repo+kind+b.Digest, nil)
	if err != nil {
		return nil, err
	}
	if b.Manifest {
		req.Header.Set("Accept", manifestTypes)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("downloading %s: %w", b.Digest, err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("downloading %s from %s: %s", b.Digest, b.Repo, resp.Status)
	}
	return resp, nil
}

// downloadBlobs is the floor of a registry download: each blob once, with
// a plain GET from a repository it is linked into, written to dir/<hex>,
// jobs at a time.
func downloadBlobs(ctx context.Context, client *http.Client, host, dir string, blobs []blobFile, jobs int) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(max(jobs, 1))
	for _, b := range blobs {
		if b.Repo == "" {
			continue
		}
		g.Go(func() error {
			resp, err := getBlob(ctx, client, host, b)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			_, hex, _ := strings.Cut(b.Digest, ":")
			f, err := os.Create(filepath.Join(dir, hex))
			if err != nil {
				return err
			}
			_, err = io.Copy(f, resp.Body)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			return err
		})
	}
	return g.Wait()
}

// manifestTypes is the Accept header of a manifest download.
const manifestTypes = "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, " +
	"application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json"

// runUpload is the "upload" subcommand:
//
//	bench upload -registry HOST [-repo REPO] [-jobs N] ROOT
//	bench upload -download DIR -registry HOST [-jobs N] ROOT
//	bench upload -relay SRC -registry HOST [-repo REPO] [-jobs N] ROOT
//
// uploads every blob of the registry root ROOT to HOST, or with -download
// fetches each of them from HOST (the registry serving ROOT) into DIR, or
// with -relay streams each of them from SRC (the registry serving ROOT)
// into HOST. The
// bench runs it as its own process so that it is timed and measured like
// the tools.
func runUpload(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("upload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	host := fs.String("registry", "", "registry host:port (plain HTTP)")
	repo := fs.String("repo", "floor/blobs", "repository to upload into")
	jobs := fs.Int("jobs", 1, "uploads at once")
	download := fs.String("download", "", "download the blobs into this directory instead")
	relay := fs.String("relay", "", "stream the blobs from this registry (host:port, serving ROOT) instead of reading ROOT")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *host == "" || fs.NArg() != 1 {
		fmt.Fprintln(stderr, "usage: bench upload [-download DIR | -relay SRC] -registry HOST [-repo REPO] [-jobs N] REGISTRY-ROOT")
		return 2
	}
	if _, err := url.Parse("http://" + *host); err != nil || strings.Contains(*host, "/") {
		fmt.Fprintf(stderr, "bench upload: bad -registry %q\n", *host)
		return 2
	}
	blobs, err := registryBlobs(fs.Arg(0))
	if err != nil {
		fmt.Fprintf(stderr, "bench upload: %v\n", err)
		return 1
	}
	if len(blobs) == 0 {
		fmt.Fprintf(stderr, "bench upload: no blobs under %s\n", fs.Arg(0))
		return 1
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: max(*jobs, 2), DisableCompression: true}}
	switch {
	case *download != "":
		err = downloadBlobs(ctx, client, *host, *download, blobs, *jobs)
	case *relay != "":
		err = relayBlobs(ctx, client, *relay, *host, *repo, blobs, *jobs)
	default:
		err = uploadBlobs(ctx, client, *host, *repo, blobs, *jobs)
	}
	if err != nil {
		fmt.Fprintf(stderr, "bench upload: %v\n", err)
		return 1
	}
	return 0
}
