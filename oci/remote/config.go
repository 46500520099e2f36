package remote

import (
	"errors"
	"os"
)

// Config is a registry client's configuration as a user states it: the
// files that hold credentials and certificates, and the switches. Its zero
// value is remote.New's defaults.
type Config struct {
	// RegistryConfig is a Docker config file with credentials (see
	// WithRegistryConfig); "" for Docker's own.
	RegistryConfig string
	// CAFile holds PEM certificates to trust besides the system's (WithCAFile).
	CAFile string
	// CertFile and KeyFile are a client certificate for mutual TLS
	// (WithClientCert); both or neither.
	CertFile, KeyFile string
	// PlainHTTP allows plain HTTP to registries off loopback (WithPlainHTTP).
	PlainHTTP bool
	// InsecureSkipTLSVerify accepts any certificate (WithInsecureSkipTLSVerify).
	InsecureSkipTLSVerify bool
	// Retries is the attempts per request (WithRetry); 0 means the default.
	Retries int
}

// Options returns the options that make a Store as c says.
func (c Config) Options() []Option {
	opts := []Option{WithPlainHTTP(c.PlainHTTP), WithInsecureSkipTLSVerify(c.InsecureSkipTLSVerify)}
	if c.Retries > 0 {
		opts = append(opts, WithRetry(c.Retries, 0))
	}
	if c.RegistryConfig != "" {
		opts = append(opts, WithRegistryConfig(c.RegistryConfig))
	}
	if c.CAFile != "" {
		opts = append(opts, WithCAFile(c.CAFile))
	}
	if c.CertFile != "" || c.KeyFile != "" {
		opts = append(opts, WithClientCert(c.CertFile, c.KeyFile))
	}
	return opts
}

// ConfigFileError is a file a Config names that cannot be read; Flag is
// the command line's name for it (--ca-file, …).
type ConfigFileError struct {
	Flag, Path string
	Err        error
}

func (e *ConfigFileError) Error() string { return e.Flag + " " + e.Path + ": " + e.Err.Error() }
func (e *ConfigFileError) Unwrap() error { return e.Err }

// Check refuses a client certificate without its key (or a key without
// its certificate), and a file that does not exist or cannot be read
// (*ConfigFileError), in the words of ferry's registry flags.
func (c Config) Check() error {
	if (c.CertFile == "") != (c.KeyFile == "") {
		return errors.New("--cert-file and --key-file go together")
	}
	for _, p := range []struct{ flag, path string }{{"--registry-config", c.RegistryConfig}, {"--ca-file", c.CAFile}, {"--cert-file", c.CertFile}, {"--key-file", c.KeyFile}} {
		if p.path == "" {
			continue
		}
		if _, err := os.Stat(p.path); err != nil {
			return &ConfigFileError{p.flag, p.path, err}
		}
	}
	return nil
}
