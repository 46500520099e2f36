package pending

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestWaitReturnsTheResult(t *testing.T) {
	c := Start(t.Context(), func(context.Context) (int, error) { return 42, nil })
	defer c.Stop()
	if v, err := c.Wait(); v != 42 || err != nil {
		t.Fatalf("Wait = %d, %v", v, err)
	}
	if v, err := c.Wait(); v != 42 || err != nil {
		t.Fatalf("second Wait = %d, %v", v, err)
	}
}

func TestStopCancelsAndWaits(t *testing.T) {
	returned := make(chan struct{})
	c := Start(t.Context(), func(ctx context.Context) (int, error) {
		defer close(returned)
		<-ctx.Done()
		return 0, ctx.Err()
	})
	c.Stop()
	select {
	case <-returned:
	default:
		t.Fatal("Stop returned before the call did")
	}
	if _, err := c.Wait(); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait after Stop = %v, want context.Canceled", err)
	}
}

func TestCallRunsInTheBackground(t *testing.T) {
	release := make(chan struct{})
	c := Start(t.Context(), func(context.Context) (string, error) { <-release; return "done", nil })
	defer c.Stop()
	select {
	case <-c.done:
		t.Fatal("the call finished before it was released")
	case <-time.After(10 * time.Millisecond):
	}
	close(release)
	if v, _ := c.Wait(); v != "done" {
		t.Fatalf("Wait = %q", v)
	}
}
