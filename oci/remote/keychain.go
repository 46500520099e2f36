package remote

import (
	"context"
	"fmt"
	"os"

	"github.com/docker/cli/cli/config/configfile"
	"github.com/docker/cli/cli/config/types"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
)

// configKeychain resolves credentials from one Docker config file, as
// authn.DefaultKeychain does from the default one: the "auths" entries and
// the credential helpers the file names (credsStore, credHelpers).
type configKeychain struct {
	cf *configfile.ConfigFile
}

func loadConfigKeychain(path string) (*configKeychain, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading registry config: %w", err)
	}
	defer f.Close()
	cf := configfile.New(path)
	if err := cf.LoadFromReader(f); err != nil {
		return nil, fmt.Errorf("parsing registry config %s: %w", path, err)
	}
	return &configKeychain{cf: cf}, nil
}

func (k *configKeychain) Resolve(target authn.Resource) (authn.Authenticator, error) {
	return k.ResolveContext(context.Background(), target)
}

// ResolveContext looks up the repository's own key first, then the
// registry's, as docker does.
func (k *configKeychain) ResolveContext(_ context.Context, target authn.Resource) (authn.Authenticator, error) {
	var empty types.AuthConfig
	for _, key := range []string{target.String(), target.RegistryStr()} {
		if key == name.DefaultRegistry {
			key = authn.DefaultAuthKey
		}
		cfg, err := k.cf.GetAuthConfig(key)
		if err != nil {
			// A helper's output may be anything; it is not passed on, in
			// case it echoes a secret.
			return nil, fmt.Errorf("getting credentials for %s: docker-credential-%s (named in %s) failed",
				target.RegistryStr(), k.helper(key), k.cf.Filename)
		}
		cfg.ServerAddress = ""
		if cfg != empty {
			return authn.FromConfig(authn.AuthConfig{
				Username:      cfg.Username,
				Password:      cfg.Password,
				Auth:          cfg.Auth,
				IdentityToken: cfg.IdentityToken,
				RegistryToken: cfg.RegistryToken,
			}), nil
		}
	}
	return authn.Anonymous, nil
}

// helper returns the credential helper the config names for key.
func (k *configKeychain) helper(key string) string {
	if h, ok := k.cf.CredentialHelpers[key]; ok {
		return h
	}
	return k.cf.CredentialsStore
}
