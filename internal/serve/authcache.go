package serve

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/distribution/distribution/v3/configuration"
	"github.com/distribution/distribution/v3/registry/auth"
)

// cachedHtpasswd is the access controller NewApp puts in place of
// distribution's htpasswd controller: the same check, with verified
// credentials remembered for a while, so that a registry client (which sends
// Basic credentials on every request) does not pay a bcrypt comparison
// (tens of milliseconds by design) per blob.
const cachedHtpasswd = "ferry-htpasswd-cached"

const (
	// credentialTTL is how long a verified user and password are trusted
	// without asking bcrypt again.
	credentialTTL = time.Minute
	// maxCachedCredentials bounds the cache: a client trying many
	// passwords adds nothing (only successes are kept), and many users
	// push out the entries that expire first.
	maxCachedCredentials = 1024
)

func init() {
	if err := auth.Register(cachedHtpasswd, auth.InitFunc(newCredentialCache)); err != nil {
		panic(err)
	}
}

// useCredentialCache swaps an htpasswd access controller in cfg for the
// cached one, with the same parameters.
func useCredentialCache(cfg *configuration.Configuration) {
	if cfg.Auth.Type() != "htpasswd" {
		return
	}
	params := configuration.Parameters{}
	for k, v := range cfg.Auth.Parameters() {
		params[k] = v
	}
	cfg.Auth = configuration.Auth{cachedHtpasswd: params}
}

// credentialCache wraps distribution's htpasswd controller. Entries are
// keyed by an HMAC (with a key made at start) of user and password, so the
// cache holds no password; they expire after credentialTTL, and all of them
// are dropped when the htpasswd file changes, so that a removed user or a
// changed password takes effect at once.
type credentialCache struct {
	inner auth.AccessController
	path  string
	key   []byte
	ttl   time.Duration
	max   int
	now   func() time.Time

	mu      sync.Mutex
	modtime time.Time
	entries map[[sha256.Size]byte]cachedCredential
	// pending holds the checks under way, so that a client opening many
	// connections at once with the same credentials waits for one bcrypt
	// comparison instead of making one each.
	pending map[[sha256.Size]byte]chan struct{}
}

type cachedCredential struct {
	user    string
	expires time.Time
}

func newCredentialCache(options map[string]any) (auth.AccessController, error) {
	inner, err := auth.GetAccessController("htpasswd", options)
	if err != nil {
		return nil, err
	}
	path, _ := options["path"].(string)
	return newCache(inner, path, credentialTTL, maxCachedCredentials, time.Now), nil
}

func newCache(inner auth.AccessController, path string, ttl time.Duration, maxEntries int, now func() time.Time) *credentialCache {
	key := make([]byte, 32)
	_, _ = rand.Read(key) // crypto/rand.Read does not fail
	return &credentialCache{inner: inner, path: path, key: key, ttl: ttl, max: maxEntries, now: now,
		entries: map[[sha256.Size]byte]cachedCredential{}, pending: map[[sha256.Size]byte]chan struct{}{}}
}

func (c *credentialCache) Authorized(req *http.Request, access ...auth.Access) (*auth.Grant, error) {
	user, password, ok := req.BasicAuth()
	if !ok {
		return c.inner.Authorized(req, access...)
	}
	k := c.keyOf(user, password)
	c.mu.Lock()
	c.dropIfFileChanged()
	for {
		if e, hit := c.entries[k]; hit && c.now().Before(e.expires) && e.user == user {
			c.mu.Unlock()
			return &auth.Grant{User: auth.UserInfo{Name: user}}, nil
		}
		wait, busy := c.pending[k]
		if !busy {
			break
		}
		c.mu.Unlock()
		select {
		case <-wait:
		case <-req.Context().Done():
			return nil, req.Context().Err()
		}
		// Then a hit, or (the check failed) this request makes its own:
		// a wrong password is never answered from another's result.
		c.mu.Lock()
	}
	done := make(chan struct{})
	c.pending[k] = done
	c.mu.Unlock()
	g, err := c.inner.Authorized(req, access...)
	c.mu.Lock()
	delete(c.pending, k)
	close(done)
	if err == nil {
		now := c.now()
		c.put(k, cachedCredential{user: user, expires: now.Add(c.ttl)}, now)
	}
	c.mu.Unlock()
	return g, err
}

func (c *credentialCache) keyOf(user, password string) [sha256.Size]byte {
	m := hmac.New(sha256.New, c.key)
	m.Write([]byte(user))
	m.Write([]byte{0})
	m.Write([]byte(password))
	var k [sha256.Size]byte
	copy(k[:], m.Sum(nil))
	return k
}

// dropIfFileChanged empties the cache when the htpasswd file's modification
// time moved. c.mu is held.
func (c *credentialCache) dropIfFileChanged() {
	if c.path == "" {
		return
	}
	fi, err := os.Stat(c.path)
	if err != nil {
		clear(c.entries)
		return
	}
	if !fi.ModTime().Equal(c.modtime) {
		c.modtime = fi.ModTime()
		clear(c.entries)
	}
}

// put adds an entry, first dropping expired ones and then, when the cache
// is still full, the one that expires first. c.mu is held.
func (c *credentialCache) put(k [sha256.Size]byte, e cachedCredential, now time.Time) {
	if _, ok := c.entries[k]; !ok && len(c.entries) >= c.max {
		for key, old := range c.entries {
			if !now.Before(old.expires) {
				delete(c.entries, key)
			}
		}
		for len(c.entries) >= c.max {
			var first [sha256.Size]byte
			var at time.Time
			for key, old := range c.entries {
				if at.IsZero() || old.expires.Before(at) {
					first, at = key, old.expires
				}
			}
			delete(c.entries, first)
		}
	}
	c.entries[k] = e
}

// len is the number of cached credentials, for tests.
func (c *credentialCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}
