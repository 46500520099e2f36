package remote

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ferry-oci/ferry/oci"
)

// Hint says what to do about a registry that refused a connection or its
// credentials, in the words of ferry's command line (its registry flags);
// "" when err is no such refusal.
func Hint(err error) string {
	host := HostOr(err, "the registry")
	switch {
	case IsCertificateRejected(err):
		return fmt.Sprintf("the certificate of %s is not signed by a trusted authority: pass --ca-file with the CA that signed it (or add the CA to the system trust store)", host)
	case IsClientCertRequired(err):
		return fmt.Sprintf("%s asks for a client certificate (mutual TLS): pass --cert-file and --key-file with one it accepts", host)
	case strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		return fmt.Sprintf("%s speaks plain HTTP, not TLS: name it with http:// (https:// never falls back to plain HTTP)", host)
	case IsPlainHTTPRefused(err):
		return "ferry speaks plain HTTP only to loopback addresses unless asked: pass --plain-http if this registry really has no TLS"
	case errors.Is(err, oci.ErrUnauthorized):
		return fmt.Sprintf("check the credentials for %s: run 'docker login %s', or pass --registry-config with a Docker config file that holds them", host, host)
	case errors.Is(err, oci.ErrDenied):
		return fmt.Sprintf("the credentials for %s are valid but not allowed to do this: ask for push/pull rights on the repository", host)
	}
	return ""
}

// HostOr is Host(err), or def when err names no registry.
func HostOr(err error, def string) string {
	if host := Host(err); host != "" {
		return host
	}
	return def
}
