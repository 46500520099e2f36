package serve_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/distribution/distribution/v3/configuration"
	"github.com/distribution/distribution/v3/registry/handlers"

	"github.com/ferry-oci/ferry/internal/serve"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestConfigErrors checks that a bad setting gives a *ConfigError naming the key (and the
// file), never a panic, and that New reports it before anything listens.
func TestConfigErrors(t *testing.T) {
	certFile, keyFile, _ := selfSigned(t)
	missing := filepath.Join(t.TempDir(), "missing")
	notBcrypt := writeFile(t, "htpasswd", "alice:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\n")
	fromFile := func(yml string) func(*testing.T) serve.Options {
		return func(t *testing.T) serve.Options {
			return serve.Options{ConfigFile: writeFile(t, "config.yml", yml)}
		}
	}
	opts := func(o serve.Options) func(*testing.T) serve.Options {
		return func(*testing.T) serve.Options { return o }
	}
	cases := []struct {
		name    string
		options func(*testing.T) serve.Options
		key     string
		errIs   error  // checked with errors.Is when set
		message string // a part of the message
	}{
		{"unknown storage driver", fromFile("version: 0.1\nstorage:\n  s4: {}\n"),
			"storage", nil, `storage: unknown driver "s4"`},
		{"malformed yaml", fromFile("version: 0.1\nstorage: [inmemory\n"),
			"", nil, "yaml"},
		{"no storage", fromFile("version: 0.1\nhttp:\n  addr: 127.0.0.1:0\n"),
			"", nil, "no storage configuration"},
		{"two storage drivers", fromFile("version: 0.1\nstorage:\n  inmemory: {}\n  filesystem: {}\n"),
			"", nil, "exactly one storage type"},
		{"config file missing", opts(serve.Options{ConfigFile: missing}),
			"", fs.ErrNotExist, missing},
		{"htpasswd file missing in config", fromFile("version: 0.1\nstorage: inmemory\nauth:\n  htpasswd:\n    realm: r\n    path: " + missing + "\n"),
			"auth.htpasswd.path", fs.ErrNotExist, missing},
		{"htpasswd file missing", opts(serve.Options{Htpasswd: missing}),
			"auth.htpasswd.path", fs.ErrNotExist, missing},
		{"htpasswd not bcrypt", opts(serve.Options{Htpasswd: notBcrypt}),
			"auth.htpasswd.path", nil, notBcrypt + ":1"},
		{"htpasswd is a directory", opts(serve.Options{Htpasswd: t.TempDir()}),
			"auth.htpasswd.path", nil, "directory"},
		{"unknown access controller", fromFile("version: 0.1\nstorage: inmemory\nauth:\n  silly:\n    realm: r\n"),
			"auth", nil, `unknown access controller "silly"`},
		{"htpasswd option against other auth", func(t *testing.T) serve.Options {
			return serve.Options{
				ConfigFile: writeFile(t, "config.yml", "version: 0.1\nstorage: inmemory\nauth:\n  token:\n    realm: r\n"),
				Htpasswd:   writeHtpasswd(t, "a", "b"),
			}
		}, "auth", nil, "conflicts"},
		{"token auth without its settings", fromFile("version: 0.1\nstorage: inmemory\nauth:\n  token:\n    realm: r\n"),
			"auth.token", nil, ""},
		{"root with a config file", func(t *testing.T) serve.Options {
			return serve.Options{ConfigFile: writeFile(t, "config.yml", "version: 0.1\nstorage: inmemory\n"), Root: t.TempDir()}
		}, "storage", nil, "rootdirectory"},
		{"tls key without cert", opts(serve.Options{TLSKey: keyFile}),
			"http.tls.certificate", nil, "missing"},
		{"tls cert without key", opts(serve.Options{TLSCert: certFile}),
			"http.tls.key", nil, "missing"},
		{"tls cert file missing", opts(serve.Options{TLSCert: missing, TLSKey: keyFile}),
			"http.tls.certificate", fs.ErrNotExist, missing},
		{"tls key is not a key", opts(serve.Options{TLSCert: certFile, TLSKey: certFile}),
			"http.tls", nil, certFile},
		{"letsencrypt", fromFile("version: 0.1\nstorage: inmemory\nhttp:\n  tls:\n    letsencrypt:\n      cachefile: /tmp/le\n"),
			"http.tls.letsencrypt", nil, "not supported"},
		{"readonly not a mapping", fromFile("version: 0.1\nstorage:\n  inmemory: {}\n  maintenance:\n    readonly: true\n"),
			"storage.maintenance.readonly", nil, "mapping"},
		{"readonly enabled not a bool", fromFile("version: 0.1\nstorage:\n  inmemory: {}\n  maintenance:\n    readonly:\n      enabled: sometimes\n"),
			"storage.maintenance.readonly.enabled", nil, "sometimes"},
		{"readonly option over a bad section", func(t *testing.T) serve.Options {
			return serve.Options{ConfigFile: writeFile(t, "config.yml", "version: 0.1\nstorage:\n  inmemory: {}\n  maintenance:\n    readonly: yes\n"), ReadOnly: true}
		}, "storage.maintenance.readonly", nil, "mapping"},
		{"upload purging age", fromFile("version: 0.1\nstorage:\n  inmemory: {}\n  maintenance:\n    uploadpurging:\n      enabled: true\n      age: 1 week\n      interval: 24h\n      dryrun: false\n"),
			"storage.maintenance.uploadpurging.age", nil, "1 week"},
		{"redirect without disable", fromFile("version: 0.1\nstorage:\n  inmemory: {}\n  redirect:\n    foo: bar\n"),
			"storage.redirect.disable", nil, ""},
		{"redis cache without redis", fromFile("version: 0.1\nstorage:\n  inmemory: {}\n  cache:\n    blobdescriptor: redis\n"),
			"storage.cache.blobdescriptor", nil, "redis"},
		{"filesystem maxthreads", fromFile("version: 0.1\nstorage:\n  filesystem:\n    maxthreads: lots\n"),
			"storage.filesystem", nil, "maxthreads"},
		{"log level", opts(serve.Options{LogLevel: "loud"}),
			"log.level", nil, "loud"},
		{"manifest url regexp", fromFile("version: 0.1\nstorage: inmemory\nvalidation:\n  manifests:\n    urls:\n      allow: ['(']\n"),
			"validation.manifests.urls.allow", nil, ""},
		{"debug server", fromFile("version: 0.1\nstorage: inmemory\nhttp:\n  debug:\n    addr: 127.0.0.1:0\n"),
			"http.debug.addr", nil, "not supported"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := c.options(t)
			o.Addr = "127.0.0.1:0"
			s, err := serve.New(o)
			if err == nil {
				stop(t, s)
				t.Fatalf("New accepted the configuration")
			}
			var ce *serve.ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("error %v (%T) is not a *ConfigError", err, err)
			}
			if ce.Key != c.key {
				t.Errorf("Key = %q, want %q (error: %v)", ce.Key, c.key, err)
			}
			if ce.File != o.ConfigFile {
				t.Errorf("File = %q, want %q", ce.File, o.ConfigFile)
			}
			if c.errIs != nil && !errors.Is(err, c.errIs) {
				t.Errorf("error %v is not %v", err, c.errIs)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "config") || !strings.Contains(msg, c.message) || !strings.Contains(msg, c.key) {
				t.Errorf("message %q does not name %q and %q", msg, c.key, c.message)
			}
			if o.ConfigFile != "" && !strings.HasPrefix(msg, "config "+o.ConfigFile+": ") {
				t.Errorf("message %q does not start with the file", msg)
			}
		})
	}
}

func TestConfigErrorMessage(t *testing.T) {
	p := writeFile(t, "y.yml", "version: 0.1\nstorage:\n  s4: {}\n")
	_, err := serve.New(serve.Options{ConfigFile: p})
	want := "config " + p + `: storage: unknown driver "s4" (this ferry has ` + strings.Join(serve.Drivers(), ", ") + ")"
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v\nwant    %s", err, want)
	}
}

// TestValidateCatchesWhatNewAppPanicsOn proves the checks matter: distribution's own
// NewApp panics on these configurations, serve.NewApp returns the error.
func TestValidateCatchesWhatNewAppPanicsOn(t *testing.T) {
	for name, storage := range map[string]configuration.Storage{
		"readonly":        {"inmemory": {}, "maintenance": {"readonly": true}},
		"redirect":        {"inmemory": {}, "redirect": {"disable": "no"}},
		"unknown driver":  {"s4": {}},
		"purging no age":  {"inmemory": {}, "maintenance": {"uploadpurging": map[any]any{"enabled": true}}},
		"tag concurrency": {"inmemory": {}, "tag": {"concurrencylimit": -1}},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := &configuration.Configuration{Storage: storage}
			if !panics(func() { handlers.NewApp(context.Background(), cfg).Shutdown() }) {
				t.Fatalf("distribution accepted the configuration; the case proves nothing")
			}
			cfg = &configuration.Configuration{Storage: storage}
			if _, err := serve.NewApp(context.Background(), cfg); err == nil {
				t.Fatalf("serve.NewApp accepted the configuration")
			}
		})
	}
}

func panics(f func()) (p bool) {
	defer func() { p = recover() != nil }()
	f()
	return false
}

// TestNewAppRecovers covers a setting Validate leaves to distribution: an unknown registry
// middleware makes handlers.NewApp panic; serve.NewApp returns an error instead.
func TestNewAppRecovers(t *testing.T) {
	cfg := &configuration.Configuration{
		Storage:    configuration.Storage{"inmemory": {}},
		Middleware: map[string][]configuration.Middleware{"registry": {{Name: "nope"}}},
	}
	app, err := serve.NewApp(context.Background(), cfg)
	if err == nil {
		app.Shutdown()
		t.Fatalf("NewApp accepted an unknown middleware")
	}
	if !strings.Contains(err.Error(), "nope") {
		t.Errorf("error %q does not name the middleware", err)
	}
}
