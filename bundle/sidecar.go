package bundle

import (
	"crypto/sha256"
	"encoding"
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
// page cache). At a slot still being pushed it hashes what the push has
// written so far and waits for more, so a large blob does not hold it back
// until its last byte; if the push fails, the hasher goes back to the
// slot's start (the volumes' hash states saved there) and follows the next
// attempt. It leaves a slot only when Push reports it done, its digest
// checked. The engine pushes blobs in the layout's order
// (Writer.BlobOrder), so the hasher follows close behind them; Close waits
// for the rest.
//
// It runs in one goroutine, beside the pushes, which on a machine with more
// than one core takes the sidecar's hashing off the critical path; while it
// has bytes to hash, a push more than lagLimit ahead of it waits (await).
type sidecarHasher struct {
	vols  *volumeSet
	slots []*slot         // the pushed slots, by offset
	index map[v1.Hash]int // slot digest -> position in slots

	mu       sync.Mutex
	pos      []progress
	wake     chan struct{} // a slot grew or completed (capacity 1)
	stop     chan struct{} // closed by halt
	moved    sync.Cond     // on mu: hashedTo moved, or the hasher waits or has stopped
	hashedTo int64         // the bundle is hashed up to here
	idle     bool          // the hasher waits for a push
	over     bool          // the hasher has returned

	sums   []hash.Hash // one per volume
	err    error
	finish chan struct{} // closed when run returns
}

// newSidecarHasher starts hashing the volumes of vols laid out as lay;
// complete lists the pushed slots already in place (a resumed create).
func newSidecarHasher(vols *volumeSet, lay *layout, complete map[v1.Hash]bool) *sidecarHasher {
	h := &sidecarHasher{vols: vols, index: map[v1.Hash]int{}, wake: make(chan struct{}, 1),
		stop: make(chan struct{}), finish: make(chan struct{})}
	h.moved.L = &h.mu
	for _, d := range lay.order { // order is by offset
		s := lay.slots[d]
		if s.data != nil || s.desc.Size == 0 {
			continue // written by Begin, or nothing to wait for
		}
		h.index[d] = len(h.slots)
		h.slots = append(h.slots, s)
		p := progress{done: complete[d]}
		if p.done {
			p.written = s.desc.Size
		}
		h.pos = append(h.pos, p)
	}
	for range vols.files {
		h.sums = append(h.sums, sha256.New())
	}
	go h.run()
	return h
}

// progress is how far the push of one slot has come.
type progress struct {
	written int64 // bytes in place from the slot's start, in this attempt
	attempt int   // failed attempts so far: the bytes hashed before may be gone
	done    bool  // complete, its digest checked
}

// update changes slot d's progress unless it is complete, and wakes the
// hasher.
func (h *sidecarHasher) update(d v1.Hash, f func(*progress)) {
	i, ok := h.index[d]
	if !ok {
		return
	}
	h.mu.Lock()
	if !h.pos[i].done {
		f(&h.pos[i])
	}
	h.mu.Unlock()
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// wrote reports that the first n bytes of slot d are in place.
func (h *sidecarHasher) wrote(d v1.Hash, n int64) { h.update(d, func(p *progress) { p.written = n }) }

// failed reports that a push of slot d failed: what it wrote may be
// overwritten by the next attempt.
func (h *sidecarHasher) failed(d v1.Hash) {
	h.update(d, func(p *progress) { p.written, p.attempt = 0, p.attempt+1 })
}

// completed reports that slot d has been written in full.
func (h *sidecarHasher) completed(d v1.Hash) {
	h.update(d, func(p *progress) { p.written, p.done = h.slots[h.index[d]].desc.Size, true })
}

func (h *sidecarHasher) progressOf(i int) progress {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.pos[i]
}

// lagLimit is how far ahead of the hasher a push may write while the
// hasher has bytes to hash. On a machine whose cores are all busy (the
// pushes' own hashing, the source registry) the hasher gets no more time
// than any push and falls behind: the sidecar's hash of everything it has
// not reached is then left for after the last blob, on one core. Holding
// the pushes that run too far ahead keeps it close behind them; a hasher
// that waits for a push holds nothing back.
var lagLimit int64 = 64 << 20 // a variable for the tests

// await returns when a push may write up to end: the hasher is within
// lagLimit of it, waits for a push itself, or has stopped.
func (h *sidecarHasher) await(end int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for !h.idle && !h.over && end-h.hashedTo > lagLimit {
		h.moved.Wait()
	}
}

// set changes the hasher's state under the lock and wakes the pushes
// waiting in await.
func (h *sidecarHasher) set(f func()) {
	h.mu.Lock()
	f()
	h.moved.Broadcast() // next to nothing when no push waits
	h.mu.Unlock()
}

func (h *sidecarHasher) run() {
	defer close(h.finish)
	defer h.set(func() { h.over = true })
	var pos int64
	for i, s := range h.slots {
		if err := h.hash(pos, s.off); err != nil {
			h.err = err
			return
		}
		if err := h.follow(i, s); err != nil {
			h.err = err
			return
		}
		pos = s.off + s.desc.Size
	}
	if err := h.hash(pos, h.vols.total); err != nil {
		h.err = err
	}
}

// follow hashes slot i as its push writes it and returns when the slot is
// complete and hashed.
func (h *sidecarHasher) follow(i int, s *slot) error {
	var saved [][]byte // the volumes' hash states at the slot's start, saved before its first bytes are hashed
	first, _ := h.vols.locate(s.off)
	last, _ := h.vols.locate(s.off + s.desc.Size - 1)
	var hashed int64
	attempt := h.progressOf(i).attempt
	for {
		p := h.progressOf(i)
		if p.attempt != attempt {
			if err := h.restore(first, saved); err != nil {
				return err
			}
			hashed, attempt = 0, p.attempt
		}
		if hashed < p.written {
			if saved == nil {
				var err error
				if saved, err = h.save(first, last); err != nil {
					return err
				}
			}
			if err := h.hash(s.off+hashed, s.off+p.written); err != nil {
				return err
			}
			hashed = p.written
			continue // the attempt may have failed while its bytes were read
		}
		if p.done {
			return nil
		}
		h.set(func() { h.idle = true })
		select {
		case <-h.wake:
		case <-h.stop:
			return errSidecarStopped
		}
		h.set(func() { h.idle = false })
	}
}

// save returns the hash states of volumes first to last.
func (h *sidecarHasher) save(first, last int) ([][]byte, error) {
	var states [][]byte
	for _, sum := range h.sums[first : last+1] {
		b, err := sum.(encoding.BinaryMarshaler).MarshalBinary()
		if err != nil {
			return nil, fmt.Errorf("saving the sidecar's hash state: %w", err)
		}
		states = append(states, b)
	}
	return states, nil
}

// restore sets the hash states of the volumes from first on to states
// (nothing was hashed when states is nil).
func (h *sidecarHasher) restore(first int, states [][]byte) error {
	for k, b := range states {
		if err := h.sums[first+k].(encoding.BinaryUnmarshaler).UnmarshalBinary(b); err != nil {
			return fmt.Errorf("restoring the sidecar's hash state: %w", err)
		}
	}
	return nil
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
		h.set(func() { h.hashedTo = from })
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
