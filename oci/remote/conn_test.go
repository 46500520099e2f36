package remote

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
)

// A request body reaches the server whole through stepConn, whatever its
// size against the step, and a source that fails fails the request rather
// than ending the body early.
func TestStepConnCarriesBodies(t *testing.T) {
	var got bytes.Buffer
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Reset()
		if _, err := io.Copy(&got, r.Body); err != nil {
			w.WriteHeader(http.StatusBadRequest)
		}
	}))
	defer srv.Close()
	var d net.Dialer
	tr := &http.Transport{DialContext: dialWide(d.DialContext)}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}

	for _, size := range []int{0, 1, bodyStep - 1, bodyStep, bodyStep + 1, 3*bodyStep + 17} {
		want := make([]byte, size)
		for i := range want {
			want[i] = byte(rand.Uint32())
		}
		// iotest-like trickle: the body arrives in small, uneven reads.
		req, _ := http.NewRequest(http.MethodPut, srv.URL, &trickle{r: bytes.NewReader(want)})
		req.ContentLength = int64(size)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		resp.Body.Close()
		if !bytes.Equal(got.Bytes(), want) {
			t.Errorf("size %d: server got %d bytes, not the body", size, got.Len())
		}
	}

	boom := errors.New("source went away")
	req, _ := http.NewRequest(http.MethodPut, srv.URL, io.MultiReader(bytes.NewReader(make([]byte, bodyStep+5)), &failing{boom}))
	req.ContentLength = 2 * bodyStep
	if resp, err := client.Do(req); err == nil {
		resp.Body.Close()
		t.Fatal("a body whose source failed was sent as if complete")
	} else if !errors.Is(err, boom) {
		t.Errorf("error %v does not carry the source's %v", err, boom)
	}
}

// stepConn writes a long body in steps of bodyStep, not 32 KiB, when the
// body's reads return that much (as a fast source's response does).
func TestStepConnWritesLargeSteps(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan int64)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			done <- -1
			return
		}
		n, _ := io.Copy(io.Discard, c)
		c.Close()
		done <- n
	}()
	var d net.Dialer
	c, err := dialWide(d.DialContext)(context.Background(), "tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	sc, ok := c.(*stepConn)
	if !ok {
		t.Fatalf("dialWide gave a %T, want *stepConn", c)
	}
	w := &countingConn{stepConn: sc}
	const size = 4*bodyStep + 100
	n, err := w.ReadFrom(bytes.NewReader(make([]byte, size)))
	c.Close()
	if err != nil || n != size {
		t.Fatalf("ReadFrom = %d, %v; want %d, nil", n, err, size)
	}
	if got := <-done; got != size {
		t.Errorf("peer read %d bytes, want %d", got, size)
	}
	if w.writes != 5 {
		t.Errorf("%d writes for %d bytes, want 5 of up to %d", w.writes, size, bodyStep)
	}
}

// Files still go to the kernel: TCPConn.ReadFrom's sendfile path is kept.
func TestKernelCopies(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "blob"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, tc := range []struct {
		r    io.Reader
		want bool
	}{
		{f, true},
		{io.LimitReader(f, 10), true},
		{bytes.NewReader(nil), false},
		{io.LimitReader(bytes.NewReader(nil), 10), false},
		{io.NewSectionReader(f, 0, 10), false},
	} {
		if got := kernelCopies(tc.r); got != tc.want {
			t.Errorf("kernelCopies(%T) = %v, want %v", tc.r, got, tc.want)
		}
	}
}

// countingConn counts the writes stepConn.ReadFrom makes.
type countingConn struct {
	*stepConn
	writes int
}

func (c *countingConn) ReadFrom(r io.Reader) (int64, error) {
	// The same loop as stepConn.ReadFrom, writing through c.
	return readInSteps(c, r)
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.writes++
	return c.stepConn.TCPConn.Write(p)
}

// trickle returns at most 7,000 bytes a read, as a network body would.
type trickle struct{ r io.Reader }

func (t *trickle) Read(p []byte) (int, error) { return t.r.Read(p[:min(len(p), 7000)]) }

type failing struct{ err error }

func (f *failing) Read([]byte) (int, error) { return 0, f.err }
