package remote

import (
	"container/list"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Bounds of the manifest cache: Tag reuses the bytes of a manifest pushed
// or fetched a moment ago, and Fetch those ReadManifest read, instead of
// fetching them again.
const (
	cacheEntries = 256
	cacheBytes   = 16 << 20
)

// manifestCache holds the verified bytes of recently pushed or fetched
// manifests by repository and digest, least recently used out first.
type manifestCache struct {
	mu    sync.Mutex
	ll    *list.List // of *cached, most recent first
	m     map[cacheKey]*list.Element
	bytes int
}

type cacheKey struct {
	repo   string
	digest v1.Hash
}

type cached struct {
	key cacheKey
	b   []byte
	mt  types.MediaType
}

func newManifestCache() *manifestCache {
	return &manifestCache{ll: list.New(), m: map[cacheKey]*list.Element{}}
}

func (c *manifestCache) get(repo string, dg v1.Hash) ([]byte, types.MediaType, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[cacheKey{repo, dg}]
	if !ok {
		return nil, "", false
	}
	c.ll.MoveToFront(e)
	v := e.Value.(*cached)
	return v.b, v.mt, true
}

// put keeps b, which the caller must not change afterwards.
func (c *manifestCache) put(repo string, dg v1.Hash, mt types.MediaType, b []byte) {
	if len(b) > cacheBytes/4 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	k := cacheKey{repo, dg}
	if e, ok := c.m[k]; ok {
		c.ll.MoveToFront(e)
		return
	}
	c.m[k] = c.ll.PushFront(&cached{key: k, b: b, mt: mt})
	c.bytes += len(b)
	for c.ll.Len() > cacheEntries || c.bytes > cacheBytes {
		e := c.ll.Back()
		v := e.Value.(*cached)
		c.ll.Remove(e)
		delete(c.m, v.key)
		c.bytes -= len(v.b)
	}
}
