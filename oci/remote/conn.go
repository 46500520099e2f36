package remote

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"sync"
)

// bodyStep is how much of a request body goes to the connection in one
// write. net/http copies a body into a plain TCP connection through
// TCPConn.ReadFrom, whose generic path moves 32 KiB at a time: for a blob
// streamed from one registry into another that is one read and one write
// system call per 32 KiB on each side. Larger steps read the source's
// response in larger pieces too (the verifying reader passes the size
// down) and cut the calls eightfold; eight uploads at once hold 2 MiB.
const bodyStep = 256 << 10

var bodyBuffers = sync.Pool{New: func() any { b := make([]byte, bodyStep); return &b }}

// dialWide wraps dial so that its TCP connections write request bodies in
// steps of bodyStep (see stepConn). TLS connections are built on top of
// the wrapped connection and keep writing records of their own size.
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

// stepConn is a TCP connection whose ReadFrom copies in steps of bodyStep
// rather than the generic 32 KiB, unless the source is one the kernel can
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

// readInSteps copies r to w in writes of bodyStep (the last one shorter).
// A read error other than io.EOF is returned before what it cut short is
// written.
func readInSteps(w io.Writer, r io.Reader) (int64, error) {
	bp := bodyBuffers.Get().(*[]byte)
	defer bodyBuffers.Put(bp)
	buf := *bp
	var n int64
	for {
		m, err := fill(r, buf)
		if err != nil && !errors.Is(err, io.EOF) {
			return n, err
		}
		if m > 0 {
			k, werr := w.Write(buf[:m])
			n += int64(k)
			if werr != nil {
				return n, werr
			}
		}
		if err != nil {
			return n, nil
		}
	}
}

// fill reads from r until buf is full or r fails; at the end of r it
// returns io.EOF with what it read.
func fill(r io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
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
