package serve

import (
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/distribution/distribution/v3/registry/auth"
	"golang.org/x/crypto/bcrypt"
)

// counting counts the requests that reach distribution's htpasswd controller.
type counting struct {
	auth.AccessController
	n atomic.Int64
}

func (c *counting) Authorized(r *http.Request, a ...auth.Access) (*auth.Grant, error) {
	c.n.Add(1)
	return c.AccessController.Authorized(r, a...)
}

func htpasswdFile(t *testing.T, users ...string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "htpasswd")
	writeUsers(t, p, users...)
	return p
}

// writeUsers writes user, password pairs to an htpasswd file.
func writeUsers(t *testing.T, path string, users ...string) {
	t.Helper()
	var b []byte
	for i := 0; i+1 < len(users); i += 2 {
		h, err := bcrypt.GenerateFromPassword([]byte(users[i+1]), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		b = append(b, users[i]+":"+string(h)+"\n"...)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func basicReq(user, password string) *http.Request {
	r, _ := http.NewRequest(http.MethodGet, "http://127.0.0.1/v2/", nil)
	r.SetBasicAuth(user, password)
	return r
}

func newTestCache(t *testing.T, path string, maxEntries int, now func() time.Time) (*credentialCache, *counting) {
	t.Helper()
	inner, err := auth.GetAccessController("htpasswd", map[string]any{"realm": "test", "path": path})
	if err != nil {
		t.Fatal(err)
	}
	cnt := &counting{AccessController: inner}
	return newCache(cnt, path, time.Minute, maxEntries, now), cnt
}

func TestCredentialCache(t *testing.T) {
	path := htpasswdFile(t, "alice", "s3cret", "bob", "hunter2")
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c, inner := newTestCache(t, path, 1024, func() time.Time { return clock })

	authorized := func(user, password string) bool {
		g, err := c.Authorized(basicReq(user, password))
		if err == nil && g.User.Name != user {
			t.Fatalf("grant for %q names %q", user, g.User.Name)
		}
		return err == nil
	}
	for range 5 {
		if !authorized("alice", "s3cret") {
			t.Fatal("alice refused")
		}
	}
	if n := inner.n.Load(); n != 1 {
		t.Errorf("5 requests with the same credentials checked %d times, want 1", n)
	}
	// A wrong password is never answered from the cache, however often the right one came.
	for range 3 {
		if authorized("alice", "S3cret") || authorized("alice", "") || authorized("mallory", "s3cret") {
			t.Fatal("wrong credentials accepted")
		}
	}
	if n := inner.n.Load(); n != 1+9 {
		t.Errorf("failures checked %d times, want every one (9)", n-1)
	}
	// Another user is cached on its own.
	for range 2 {
		if !authorized("bob", "hunter2") {
			t.Fatal("bob refused")
		}
	}
	if n := inner.n.Load(); n != 11 {
		t.Errorf("bob: %d checks in all, want 11", n)
	}

	// After a minute the credential is checked again.
	clock = clock.Add(time.Minute + time.Second)
	before := inner.n.Load()
	if !authorized("alice", "s3cret") {
		t.Fatal("alice refused after expiry")
	}
	if inner.n.Load() != before+1 {
		t.Error("an expired credential was not checked again")
	}

	// A changed htpasswd file drops the cache: alice's new password takes effect at once.
	writeUsers(t, path, "alice", "n3w")
	future := time.Now().Add(time.Hour)
	if err := os.Chtimes(path, future, future); err != nil {
		t.Fatal(err)
	}
	if authorized("alice", "s3cret") {
		t.Error("the old password still works after the file changed")
	}
	if !authorized("alice", "n3w") {
		t.Error("the new password is refused")
	}
}

func TestCredentialCacheIsBounded(t *testing.T) {
	path := htpasswdFile(t, "a", "1", "b", "2", "c", "3", "d", "4")
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c, _ := newTestCache(t, path, 2, func() time.Time { return clock })
	for _, u := range [][2]string{{"a", "1"}, {"b", "2"}, {"c", "3"}, {"d", "4"}} {
		clock = clock.Add(time.Second)
		if _, err := c.Authorized(basicReq(u[0], u[1])); err != nil {
			t.Fatal(err)
		}
		if n := c.len(); n > 2 {
			t.Fatalf("cache holds %d entries, bound 2", n)
		}
	}
	// The newest two are kept: d and c are answered without bcrypt.
	if _, ok := c.entries[c.keyOf("d", "4")]; !ok {
		t.Error("the newest entry was evicted")
	}
	if _, ok := c.entries[c.keyOf("a", "1")]; ok {
		t.Error("the oldest entry was kept over the bound")
	}
}

func TestAnonymousRequestGoesToHtpasswd(t *testing.T) {
	c, inner := newTestCache(t, htpasswdFile(t, "alice", "s3cret"), 4, time.Now)
	r, _ := http.NewRequest(http.MethodGet, "http://127.0.0.1/v2/", nil)
	if _, err := c.Authorized(r); err == nil {
		t.Fatal("a request without credentials was let in")
	} else if _, ok := err.(auth.Challenge); !ok {
		t.Errorf("error %T is not a challenge, so no WWW-Authenticate would be sent", err)
	}
	if inner.n.Load() != 1 {
		t.Error("the anonymous request did not reach htpasswd")
	}
}

// TestConcurrentMissesCheckOnce: a client opening many connections at once
// with the same credentials costs one bcrypt comparison, not one each.
func TestConcurrentMissesCheckOnce(t *testing.T) {
	c, inner := newTestCache(t, htpasswdFile(t, "alice", "s3cret"), 16, time.Now)
	var wg sync.WaitGroup
	var failed atomic.Int64
	for range 8 {
		wg.Go(func() {
			if _, err := c.Authorized(basicReq("alice", "s3cret")); err != nil {
				failed.Add(1)
			}
		})
	}
	wg.Wait()
	if failed.Load() > 0 || inner.n.Load() != 1 {
		t.Errorf("8 concurrent requests: %d refused, %d checks; want 0 and 1", failed.Load(), inner.n.Load())
	}
	// Concurrent wrong passwords are each checked.
	for range 4 {
		wg.Go(func() {
			if _, err := c.Authorized(basicReq("alice", "wrong")); err == nil {
				failed.Add(1)
			}
		})
	}
	wg.Wait()
	if failed.Load() > 0 || inner.n.Load() != 5 {
		t.Errorf("4 wrong passwords: %d accepted, %d checks in all; want 0 and 5", failed.Load(), inner.n.Load())
	}
}
