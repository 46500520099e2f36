package remote

import (
	"context"
	"io"
	"net"
	"os"
	"sync"
)

// bodyStep is how much of a request body goes to the connection in one
// write. net/http copies a body into a plain TCP connection through
// TCPConn.ReadFrom, whose generic path moves 32 KiB at a time: for a blob
// streamed from one registry into another that is one read and one write
// system call per 32 KiB on each side. A larger buffer reads the source's
// response in larger pieces too (the verifying reader passes the size
// down), and each write carries what one read returned: on a fast link
// the calls fall eightfold, on a slow one nothing waits for a buffer to
// fill. Eight uploads at once hold 2 MiB.
const bodyStep = 256 << 10

var bodyBuffers = sync.Pool{New: func() any { b := make([]byte, bodyStep); return &b }}

// dialWide wraps dial so that its TCP connections copy request bodies
// through a buffer of bodyStep (see stepConn). TLS connections are built
// on top of the wrapped connection and write records of their own size.
func dialWide(dial func(ctx context.Context, network, addr string) (net.Conn, error)) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		if tc, ok := c.(*net.TCPConn); ok {
			return &stepConn{TCPConn: tc}, nil
		}
		return c, nil
	}
}

// stepConn is a TCP connection whose ReadFrom copies through a buffer of
// bodyStep rather than the generic 32 KiB, unless the source is one the kernel can
// move by itself (a file or another socket: sendfile and splice).
type stepConn struct {
	*net.TCPConn
}

func (c *stepConn) ReadFrom(r io.Reader) (int64, error) {
	if kernelCopies(r) {
		return c.TCPConn.ReadFrom(r)
	}
	return readInSteps(c.TCPConn, r)
}

// readInSteps copies r to w through a buffer of bodyStep: each write
// carries what one read returned, up to bodyStep.
func readInSteps(w io.Writer, r io.Reader) (int64, error) {
	bp := bodyBuffers.Get().(*[]byte)
	defer bodyBuffers.Put(bp)
	// Hide w's ReadFrom (and r's WriteTo), or io.CopyBuffer would hand the
	// copy back to them and their 32 KiB.
	return io.CopyBuffer(struct{ io.Writer }{w}, struct{ io.Reader }{r}, *bp)
}

// kernelCopies reports whether TCPConn.ReadFrom can hand r to the kernel
// (sendfile from a file, splice from a socket).
func kernelCopies(r io.Reader) bool {
	if lr, ok := r.(*io.LimitedReader); ok {
		r = lr.R
	}
	switch r.(type) {
	case *os.File, *net.TCPConn, *net.UnixConn:
		return true
	}
	return false
}
