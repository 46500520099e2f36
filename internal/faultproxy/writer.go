package faultproxy

import (
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"strconv"
	"time"
)

// errFault is what the handler behind a response fault gets from Write once
// the fault struck, so that it stops sending.
var errFault = errors.New("faultproxy: connection cut by an injected fault")

// faultWriter applies a response fault (Reset, Truncate, Slow, WrongLength)
// to the answer of the handler it is given to, when that answer is a 200
// with a body; other answers pass unchanged and count no fault.
type faultWriter struct {
	http.ResponseWriter
	in *Injector
	d  decision
	r  *http.Request

	wroteHeader bool
	active      bool  // the fault acts on this answer
	cut         int64 // body bytes sent before it strikes
	written     int64 // body bytes sent
	struck      bool  // it struck: nothing more is sent
	abort       bool  // the connection could not be hijacked
	start       time.Time
}

func (f *faultWriter) WriteHeader(code int) {
	if f.wroteHeader {
		f.ResponseWriter.WriteHeader(code)
		return
	}
	f.wroteHeader = true
	if code == http.StatusOK {
		n := int64(-1)
		if v := f.Header().Get("Content-Length"); v != "" {
			if l, err := strconv.ParseInt(v, 10, 64); err == nil {
				n = l
			}
		}
		switch f.d.kind {
		case Slow:
			f.active = n != 0
			f.start = time.Now()
		case Reset, Truncate:
			f.cut = cutPoint(n, f.d.frac)
			f.active = f.cut > 0
		case WrongLength:
			if n >= 2 {
				f.cut = cutPoint(n, f.d.frac)
				f.active = true
				f.Header().Set("Content-Length", strconv.FormatInt(f.cut, 10))
			}
		}
	}
	if f.active {
		f.in.record(f.d, f.r, f.cut)
	}
	f.ResponseWriter.WriteHeader(code)
}

func (f *faultWriter) Write(p []byte) (int, error) {
	if !f.wroteHeader {
		f.WriteHeader(http.StatusOK)
	}
	switch {
	case f.struck:
		return 0, errFault
	case !f.active:
		return f.ResponseWriter.Write(p)
	case f.d.kind == Slow:
		return f.slowWrite(p)
	}
	if f.written+int64(len(p)) < f.cut {
		n, err := f.ResponseWriter.Write(p)
		f.written += int64(n)
		return n, err
	}
	n, err := f.ResponseWriter.Write(p[:f.cut-f.written])
	f.written += int64(n)
	f.struck = true
	if err != nil {
		return n, err
	}
	switch f.d.kind {
	case Reset:
		f.closeConn(true)
	case Truncate:
		f.closeConn(false)
	case WrongLength:
		// The answer is complete as announced; the rest is dropped.
	}
	return n, errFault
}

// slowWrite sends p in small pieces, none before its time at the capped
// rate.
func (f *faultWriter) slowWrite(p []byte) (int, error) {
	const piece = 16 << 10
	rate := f.d.cfg.slowRate()
	rc := http.NewResponseController(f.ResponseWriter)
	sent := 0
	for len(p) > 0 {
		k := min(len(p), piece)
		n, err := f.ResponseWriter.Write(p[:k])
		sent += n
		f.written += int64(n)
		if err != nil {
			return sent, err
		}
		p = p[k:]
		_ = rc.Flush()
		due := f.start.Add(time.Duration(float64(f.written) / float64(rate) * float64(time.Second)))
		if wait := time.Until(due); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-f.r.Context().Done():
				t.Stop()
				return sent, f.r.Context().Err()
			case <-t.C:
			}
		}
	}
	return sent, nil
}

// closeConn sends what was written, then closes the connection: with a
// reset when reset is set, else with an orderly close.
func (f *faultWriter) closeConn(reset bool) {
	rc := http.NewResponseController(f.ResponseWriter)
	_ = rc.Flush()
	conn, buf, err := rc.Hijack()
	if err != nil {
		f.abort = true
		return
	}
	if buf != nil {
		_ = buf.Flush()
	}
	if reset {
		resetConn(conn)
		return
	}
	_ = conn.Close()
}

// Flush implements http.Flusher.
func (f *faultWriter) Flush() {
	if f.struck {
		return
	}
	_ = http.NewResponseController(f.ResponseWriter).Flush()
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (f *faultWriter) Unwrap() http.ResponseWriter { return f.ResponseWriter }

// resetConn closes c with a TCP reset rather than an orderly close.
func resetConn(c net.Conn) {
	nc := c
	if tc, ok := c.(*tls.Conn); ok {
		nc = tc.NetConn()
	}
	if tc, ok := nc.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = nc.Close() // no TLS close_notify: the connection just breaks
}
