package bundle

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// errSidecarStopped: the sidecar hasher was stopped before it reached the
// end of the bundle (Abort, Discard).
var errSidecarStopped = errors.New("sidecar hashing stopped")

// sidecarHasher computes the sha256 of every volume of a bundle while the
// bundle is written, for its FILE.sha256 sidecar, so that Close need not
// read the whole bundle back after the last blob arrived. The layout is fixed
// before the first byte is written: everything the layout writes itself is
// in place when Begin returns, and so is every manifest and component
// descriptor part whose bytes the plan knew (Entry.Data): the blobs the
// transfer pushes are the only gaps. The hasher walks the bundle from its
// start and hashes the completed prefix (read back while it is still in the
// page cache); at a slot still being pushed it waits until Push reports it
// done. The engine pushes blobs in the layout's order (Writer.BlobOrder), so
// the hasher follows close behind them; Close waits for the rest.
//
// It runs in one goroutine, beside the pushes, which on a machine with more
// than one core takes the sidecar's hashing off the critical path.
type sidecarHasher struct {
	vols  *volumeSet
	slots []*slot         // the pushed slots, by offset
	index map[v1.Hash]int // slot digest -> position in slots

	mu   sync.Mutex
	done []bool
	wake chan struct{} // a slot completed (capacity 1)
	stop chan struct{} // closed by halt

	sums   []hash.Hash // one per volume
	err    error
	finish chan struct{} // closed when run returns
}

// newSidecarHasher starts hashing the volumes of vols laid out as lay;
// complete lists the pushed slots already in place (a resumed create).
func newSidecarHasher(vols *volumeSet, lay *layout, complete map[v1.Hash]bool) *sidecarHasher {
	h := &sidecarHasher{vols: vols, index: map[v1.Hash]int{}, wake: make(chan struct{}, 1),
		stop: make(chan struct{}), finish: make(chan struct{})}
	for _, d := range lay.order { // order is by offset
		s := lay.slots[d]
		if s.data != nil || s.desc.Size == 0 {
			continue // written by Begin, or nothing to wait for
		}
		h.index[d] = len(h.slots)
		h.slots = append(h.slots, s)
		h.done = append(h.done, complete[d])
	}
	for range vols.files {
		h.sums = append(h.sums, sha256.New())
	}
	go h.run()
	return h
}

// completed reports that slot d has been written in full.
func (h *sidecarHasher) completed(d v1.Hash) {
	i, ok := h.index[d]
	if !ok {
		return
	}
	h.mu.Lock()
	h.done[i] = true
	h.mu.Unlock()
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

func (h *sidecarHasher) isDone(i int) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.done[i]
}

func (h *sidecarHasher) run() {
	defer close(h.finish)
	var pos int64
	for i, s := range h.slots {
		if err := h.hash(pos, s.off); err != nil {
			h.err = err
			return
		}
		for !h.isDone(i) {
			select {
			case <-h.wake:
			case <-h.stop:
				h.err = errSidecarStopped
				return
			}
		}
		pos = s.off // its bytes are hashed with what follows, up to the next gap
	}
	if err := h.hash(pos, h.vols.total); err != nil {
		h.err = err
	}
}

// hash feeds the bundle's bytes [from, to) to the volumes' hashes.
func (h *sidecarHasher) hash(from, to int64) error {
	if from >= to {
		return nil
	}
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	buf := *bp
	for from < to {
		select {
		case <-h.stop:
			return errSidecarStopped
		default:
		}
		i, in := h.vols.locate(from)
		n := min(int64(len(buf)), to-from, h.vols.sizes[i]-in)
		k, err := h.vols.files[i].ReadAt(buf[:n], in)
		if int64(k) != n {
			return fmt.Errorf("reading %s back at %d: %d of %d bytes: %w", h.vols.names[i], in, k, n, err)
		}
		h.sums[i].Write(buf[:n])
		from += n
	}
	return nil
}

// wait waits until every slot is complete and hashed, and returns each
// volume's sha256 in hex.
func (h *sidecarHasher) wait() ([]string, error) {
	<-h.finish
	if h.err != nil {
		return nil, h.err
	}
	out := make([]string, len(h.sums))
	for i, s := range h.sums {
		out[i] = hex.EncodeToString(s.Sum(nil))
	}
	return out, nil
}

// halt stops the hasher and waits for it, so that the files can be closed.
func (h *sidecarHasher) halt() {
	select {
	case <-h.stop:
	default:
		close(h.stop)
	}
	<-h.finish
}
