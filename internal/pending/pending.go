// Package pending runs a call in the background for a caller that needs its
// result a little later: a read started before the caller knows it will
// want it, or one that overlaps other work.
package pending

import "context"

// A Call is a function running in its own goroutine.
type Call[T any] struct {
	cancel context.CancelFunc
	done   chan struct{}
	v      T
	err    error
}

// Start runs f in a new goroutine with a context that Stop cancels.
func Start[T any](ctx context.Context, f func(context.Context) (T, error)) *Call[T] {
	ctx, cancel := context.WithCancel(ctx)
	c := &Call[T]{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(c.done)
		c.v, c.err = f(ctx)
	}()
	return c
}

// Wait waits for the call to return and returns what it returned.
func (c *Call[T]) Wait() (T, error) {
	<-c.done
	return c.v, c.err
}

// Stop cancels the call's context and waits for it to return, so that
// nothing of it outlives the caller. It may follow Wait.
func (c *Call[T]) Stop() {
	c.cancel()
	<-c.done
}
