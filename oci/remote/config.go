package remote

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
