package cli

import (
	"fmt"

	"github.com/spf13/pflag"

	"github.com/ferry-oci/ferry/internal/buildinfo"
	"github.com/ferry-oci/ferry/oci/remote"
	"github.com/ferry-oci/ferry/release"
)

// registryFlags are the flags of every command that talks to a registry,
// bound to the registry client's configuration.
type registryFlags struct{ remote.Config }

func (f *registryFlags) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&f.RegistryConfig, "registry-config", "", "Docker config file with registry credentials (default: $DOCKER_CONFIG/config.json or ~/.docker/config.json, with its credential helpers)")
	fs.StringVar(&f.CAFile, "ca-file", "", "PEM file with CA certificates to trust for registries, in addition to the system's")
	fs.StringVar(&f.CertFile, "cert-file", "", "PEM client certificate for registries that require mutual TLS (with --key-file)")
	fs.StringVar(&f.KeyFile, "key-file", "", "PEM private key of --cert-file")
	fs.BoolVar(&f.PlainHTTP, "plain-http", false, "allow plain HTTP to registries that are not on a loopback address")
	fs.BoolVar(&f.InsecureSkipTLSVerify, "insecure-skip-tls-verify", false, "do not verify registries' TLS certificates (dangerous: anyone on the path can read and change what is copied)")
	fs.IntVar(&f.Retries, "retries", 5, "attempts per registry request on 5xx, 429 and dropped connections")
}

func (f *registryFlags) validate() error {
	if err := f.Check(); err != nil {
		return usageErr(err)
	}
	if f.Retries < 1 {
		return usageErr(fmt.Errorf("--retries %d: want at least 1", f.Retries))
	}
	return nil
}

// remoteStore returns the registry Store the flags describe.
//
// One Store serves the whole run, so that each registry is pinged and
// authenticated once and the run's requests are counted together. A
// reference that asks for http:// needs nothing more: loopback registries
// speak plain HTTP without a flag, and for others the caller has refused it
// unless --plain-http allows every registry to.
func (g *globals) remoteStore() (*remote.Store, error) {
	g.storeMu.Lock()
	defer g.storeMu.Unlock()
	if g.store != nil {
		return g.store, nil
	}
	s, err := g.newRemoteStore()
	if err != nil {
		return nil, err
	}
	g.store = s
	return s, nil
}

// requests is how many requests the run sent to registries.
func (g *globals) requests() int64 {
	g.storeMu.Lock()
	defer g.storeMu.Unlock()
	if g.store == nil {
		return 0
	}
	return g.store.Requests()
}

func (g *globals) newRemoteStore() (*remote.Store, error) {
	if g.registry.InsecureSkipTLSVerify {
		g.logger().Warn("TLS verification is off (--insecure-skip-tls-verify): anyone on the network path can read and change what ferry copies")
	}
	opts := append(g.registry.Options(), remote.WithUserAgent(buildinfo.UserAgent()))
	if g.verbosity >= 2 {
		opts = append(opts, remote.WithLogger(g.logger()))
	}
	s, err := remote.New(opts...)
	if err != nil {
		return nil, release.WithHint(usageErr(err), "check the files the registry flags name: --ca-file wants PEM CERTIFICATE blocks (the CA that signed the registry's certificate), --cert-file and --key-file a PEM certificate and its key, --registry-config a Docker config.json")
	}
	return s, nil
}
