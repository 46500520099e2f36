package faultproxy

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Kind is a kind of fault.
type Kind string

// The faults an Injector makes. Status faults answer any request in place of
// the registry; response faults act on a GET that the registry answers 200
// with a body; UploadReset acts on a request that carries a body.
const (
	Status500 Kind = "500" // 500 Internal Server Error, with a registry error body
	Status502 Kind = "502" // 502 Bad Gateway
	Status503 Kind = "503" // 503 Service Unavailable
	Status429 Kind = "429" // 429 Too Many Requests, with Retry-After (Config.RetryAfter)

	// Reset sends part of the body, then resets the connection (TCP RST).
	Reset Kind = "reset"
	// Truncate announces the whole body's Content-Length, sends part of
	// it, then closes the connection (FIN): the client sees a short body.
	Truncate Kind = "truncate"
	// Slow sends the body at Config.SlowRate bytes per second.
	Slow Kind = "slow"
	// WrongLength announces a Content-Length shorter than the body and
	// sends that many bytes: a complete-looking answer of the wrong size.
	WrongLength Kind = "wrong-length"

	// UploadReset reads part of a request's body (an upload, a manifest
	// PUT), then resets the connection without answering.
	UploadReset Kind = "upload-reset"
)

// Kinds lists every Kind, in the order an Injector walks them when it picks
// a fault (and in which Stats.String prints them).
var Kinds = []Kind{Status500, Status502, Status503, Status429, Reset, Truncate, Slow, WrongLength, UploadReset}

// Retryable lists the kinds a client that retries temporary failures should
// survive: every kind but WrongLength, whose answer looks complete and is
// the wrong size, which a careful client takes for damaged content.
var Retryable = []Kind{Status500, Status502, Status503, Status429, Reset, Truncate, Slow, UploadReset}

// Spread returns rates that give each of kinds an equal share of rate.
func Spread(rate float64, kinds ...Kind) map[Kind]float64 {
	m := make(map[Kind]float64, len(kinds))
	for _, k := range kinds {
		m[k] += rate / float64(len(kinds))
	}
	return m
}

// Config says which faults an Injector makes, how often, and how.
type Config struct {
	// Seed makes the choices: the same seed and the same requests per key
	// give the same faults.
	Seed uint64
	// Rates is the chance of each kind of fault per request it can act on
	// (see the Kind constants). Each rate is in [0, 1] and their sum must
	// not exceed 1. Kinds absent from the map never happen.
	Rates map[Kind]float64
	// RetryAfter is the Retry-After header of Status429 answers, in whole
	// seconds rounded up; 0 sends "0" (retry at once).
	RetryAfter time.Duration
	// SlowRate is the bytes per second of a Slow body; <= 0 means 1 MiB/s.
	SlowRate int64
	// MaxPerKey stops faults for a request key once it had this many, so
	// that a client retrying often enough gets through; <= 0 means no limit.
	MaxPerKey int
	// Match picks the requests that may get a fault; nil means every
	// request whose path starts with /v2/. Requests it rejects pass
	// unchanged and are not counted.
	Match func(*http.Request) bool
	// BodyMatch further picks the requests that may get a body fault
	// (Reset, Truncate, Slow, WrongLength, UploadReset); nil means every
	// request Match picks. Status faults are not affected.
	BodyMatch func(*http.Request) bool
}

func (c Config) slowRate() int64 {
	if c.SlowRate <= 0 {
		return 1 << 20
	}
	return c.SlowRate
}

// Fault is one fault an Injector made.
type Fault struct {
	Seq     int    // 1 for the first fault made, 2 for the next, …
	Kind    Kind   //
	Method  string // of the request
	Path    string // of the request, without the query
	Key     string // the request's key (see the package comment)
	Attempt int    // 1 for the first request with this key, 2 for the next, …
	// At is where a body fault struck: the bytes of the body passed before
	// it (for Slow, 0); -1 for status faults.
	At int64
}

func (f Fault) String() string {
	s := fmt.Sprintf("#%d %s %s %s (attempt %d)", f.Seq, f.Kind, f.Method, f.Path, f.Attempt)
	if f.At >= 0 && f.Kind != Slow {
		s += fmt.Sprintf(" after %d bytes", f.At)
	}
	return s
}

// Stats counts what an Injector saw and did.
type Stats struct {
	Requests int // requests that matched (Config.Match) while enabled
	// Repeats are the requests whose key came before: retries, and
	// requests a client makes more than once anyway (a HEAD before a PUT).
	Repeats int
	// Retried are the faults after which a request with the same key came
	// again: the client tried again (an upload tried again counts when its
	// PUT comes again).
	Retried int
	Faults  map[Kind]int // faults made, by kind
}

// Total returns the number of faults made.
func (s Stats) Total() int {
	n := 0
	for _, v := range s.Faults {
		n += v
	}
	return n
}

// String returns the counts as space-separated key=value pairs, every kind
// included, for logs that tools grep:
// "requests=212 repeats=19 faults=14 500=2 502=1 503=3 429=1 reset=2 …".
func (s Stats) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "requests=%d repeats=%d faults=%d retried=%d", s.Requests, s.Repeats, s.Total(), s.Retried)
	for _, k := range Kinds {
		fmt.Fprintf(&b, " %s=%d", k, s.Faults[k])
	}
	return b.String()
}

// Injector makes faults in front of an http.Handler (Wrap) or as a reverse
// proxy (NewProxy). It is safe for concurrent use.
type Injector struct {
	cfg     Config
	enabled atomic.Bool

	mu      sync.Mutex
	seen    map[string]int // requests per key
	faulted map[string]int // faults per key
	pending map[string]int // faults per key not followed by a request with the key yet
	faults  []Fault
	stats   Stats
}

// New returns an enabled Injector that makes faults as cfg says.
func New(cfg Config) (*Injector, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	in := &Injector{cfg: cfg}
	in.clear()
	in.enabled.Store(true)
	return in, nil
}

// Reset replaces the injector's configuration and forgets every request,
// fault and count, as if it were new; it stays enabled or disabled. A test
// that keeps one registry for many runs gives each run its own seed this way.
func (in *Injector) Reset(cfg Config) error {
	if err := cfg.check(); err != nil {
		return err
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	in.cfg = cfg
	in.clear()
	return nil
}

func (in *Injector) clear() {
	in.seen, in.faulted, in.pending, in.faults = map[string]int{}, map[string]int{}, map[string]int{}, nil
	in.stats = Stats{Faults: map[Kind]int{}}
}

func (cfg Config) check() error {
	var sum float64
	for k, r := range cfg.Rates {
		if !known(k) {
			return fmt.Errorf("fault kind %q: unknown", k)
		}
		if r < 0 || r > 1 {
			return fmt.Errorf("fault kind %s: rate %v is outside [0, 1]", k, r)
		}
		sum += r
	}
	if sum > 1+1e-9 {
		return fmt.Errorf("fault rates add up to %v, more than 1", sum)
	}
	if cfg.RetryAfter < 0 {
		return fmt.Errorf("retry-after %v is negative", cfg.RetryAfter)
	}
	return nil
}

func known(k Kind) bool {
	for _, kk := range Kinds {
		if k == kk {
			return true
		}
	}
	return false
}

// SetEnabled turns faults on or off. While off, requests pass unchanged and
// are not counted, so a test can re-run through the same registry without
// faults.
func (in *Injector) SetEnabled(on bool) { in.enabled.Store(on) }

// Faults returns a copy of the fault log, in the order the faults were made.
func (in *Injector) Faults() []Fault {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]Fault(nil), in.faults...)
}

// Stats returns a snapshot of the counters.
func (in *Injector) Stats() Stats {
	in.mu.Lock()
	defer in.mu.Unlock()
	s := in.stats
	s.Faults = make(map[Kind]int, len(in.stats.Faults))
	for k, v := range in.stats.Faults {
		s.Faults[k] = v
	}
	return s
}

// Log returns the fault log as text, one fault a line, at most limit lines
// (<= 0: all), for test failure messages.
func (in *Injector) Log(limit int) string {
	fs := in.Faults()
	var b strings.Builder
	for i, f := range fs {
		if limit > 0 && i == limit {
			fmt.Fprintf(&b, "… and %d more\n", len(fs)-limit)
			break
		}
		b.WriteString(f.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// Wrap returns a handler that makes faults in front of next. It fits
// registrytest.WithHandlerWrapper.
func (in *Injector) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cfg := in.config()
		if !in.enabled.Load() || !cfg.match(r) {
			next.ServeHTTP(w, r)
			return
		}
		d := in.decide(cfg, r)
		switch d.kind {
		case "":
			next.ServeHTTP(w, r)
		case Status500, Status502, Status503, Status429:
			in.record(d, r, -1)
			writeStatus(w, r, d)
		case UploadReset:
			in.resetUpload(w, r, d)
		default:
			fw := &faultWriter{ResponseWriter: w, in: in, d: d, r: r}
			next.ServeHTTP(fw, r)
			if fw.abort {
				// The connection could not be taken over (HTTP/2):
				// abort the stream instead.
				panic(http.ErrAbortHandler)
			}
		}
	})
}

func (in *Injector) config() Config {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.cfg
}

func (cfg Config) match(r *http.Request) bool {
	if cfg.Match != nil {
		return cfg.Match(r)
	}
	return strings.HasPrefix(r.URL.Path, "/v2/")
}

// decision is the fault chosen for one request.
type decision struct {
	kind    Kind
	key     string
	attempt int
	frac    float64 // in [0, 1): where in the body a body fault strikes
	cfg     Config  // the configuration it was made with
}

// decide counts r and picks its fault ("" for none).
func (in *Injector) decide(cfg Config, r *http.Request) decision {
	key := requestKey(r)
	in.mu.Lock()
	in.seen[key]++
	d := decision{key: key, attempt: in.seen[key], cfg: cfg}
	in.stats.Requests++
	if d.attempt > 1 {
		in.stats.Repeats++
	}
	if in.pending[key] > 0 {
		in.stats.Retried += in.pending[key]
		delete(in.pending, key)
	}
	limited := cfg.MaxPerKey > 0 && in.faulted[key] >= cfg.MaxPerKey
	in.mu.Unlock()
	if limited {
		return d
	}
	var u float64
	u, d.frac = draw(cfg.Seed, key, d.attempt)
	var cum float64
	for _, k := range Kinds {
		rate := cfg.Rates[k]
		if rate == 0 || !applies(k, r) || (isBodyFault(k) && cfg.BodyMatch != nil && !cfg.BodyMatch(r)) {
			continue
		}
		cum += rate
		if u < cum {
			d.kind = k
			break
		}
	}
	return d
}

func isBodyFault(k Kind) bool {
	switch k {
	case Reset, Truncate, Slow, WrongLength, UploadReset:
		return true
	}
	return false
}

// applies says whether a fault of kind k can act on r.
func applies(k Kind, r *http.Request) bool {
	switch k {
	case Reset, Truncate, Slow, WrongLength:
		return r.Method == http.MethodGet
	case UploadReset:
		return hasBody(r) && (r.ContentLength < 0 || r.ContentLength >= 2)
	}
	return true
}

func hasBody(r *http.Request) bool {
	return r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0
}

// draw returns two numbers in [0, 1) that depend on nothing but seed, key
// and attempt.
func draw(seed uint64, key string, attempt int) (u, frac float64) {
	h := sha256.Sum256(fmt.Appendf(nil, "%d\x00%s\x00%d", seed, key, attempt))
	const scale = 1 << 53
	u = float64(binary.BigEndian.Uint64(h[0:8])>>11) / scale
	frac = float64(binary.BigEndian.Uint64(h[8:16])>>11) / scale
	return u, frac
}

// keyQuery are the query parameters that say what a request moves; the
// others (upload state) differ between runs.
var keyQuery = []string{"digest", "mount", "from", "n", "last"}

// peekBytes is how much of a body without a digest in the query goes into
// the request's key.
const peekBytes = 512

// requestKey returns r's key: its method, its path with upload session IDs
// cut off, the query parameters of keyQuery, and, for a body the query names
// no digest for, a hash of the body's first bytes (which it puts back).
func requestKey(r *http.Request) string {
	p := r.URL.Path
	if i := strings.Index(p, "/blobs/uploads/"); i >= 0 {
		p = p[:i+len("/blobs/uploads/")]
	}
	q := url.Values{}
	for _, name := range keyQuery {
		if v, ok := r.URL.Query()[name]; ok {
			q[name] = v
		}
	}
	key := r.Method + " " + p
	if len(q) > 0 {
		key += "?" + q.Encode()
	}
	if hasBody(r) && !q.Has("digest") {
		head := make([]byte, peekBytes)
		n, err := io.ReadFull(r.Body, head)
		head = head[:n]
		sum := sha256.Sum256(head)
		key += " body:" + hex.EncodeToString(sum[:8])
		var rest io.Reader = r.Body
		if err != nil { // the body ended (or broke) within the peek
			rest = errReader{err}
		}
		r.Body = &peekedBody{Reader: io.MultiReader(bytes.NewReader(head), rest), c: r.Body}
	}
	return key
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) {
	if e.err == io.ErrUnexpectedEOF {
		return 0, io.EOF
	}
	return 0, e.err
}

type peekedBody struct {
	io.Reader
	c io.Closer
}

func (b *peekedBody) Close() error { return b.c.Close() }

// record logs a fault that struck r at byte at (-1: a status fault).
func (in *Injector) record(d decision, r *http.Request, at int64) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.faulted[d.key]++
	in.pending[d.key]++
	in.stats.Faults[d.kind]++
	in.faults = append(in.faults, Fault{
		Seq: len(in.faults) + 1, Kind: d.kind, Method: r.Method, Path: r.URL.Path,
		Key: d.key, Attempt: d.attempt, At: at,
	})
}

// writeStatus answers with the status of a status fault and a registry
// error body (OCI distribution spec, "Error Codes").
func writeStatus(w http.ResponseWriter, r *http.Request, d decision) {
	code, ecode := http.StatusInternalServerError, "UNKNOWN"
	switch d.kind {
	case Status502:
		code, ecode = http.StatusBadGateway, "UNAVAILABLE"
	case Status503:
		code, ecode = http.StatusServiceUnavailable, "UNAVAILABLE"
	case Status429:
		code, ecode = http.StatusTooManyRequests, "TOOMANYREQUESTS"
		secs := (d.cfg.RetryAfter + time.Second - 1) / time.Second
		w.Header().Set("Retry-After", strconv.FormatInt(int64(secs), 10))
	}
	w.Header().Set("Content-Type", "application/json")
	if hasBody(r) {
		w.Header().Set("Connection", "close") // the body is left unread
	}
	w.WriteHeader(code)
	fmt.Fprintf(w, `{"errors":[{"code":%q,"message":"faultproxy: injected %d %s"}]}`+"\n", ecode, code, http.StatusText(code))
}

// resetUpload reads part of r's body, then resets the connection without
// an answer.
func (in *Injector) resetUpload(w http.ResponseWriter, r *http.Request, d decision) {
	cut := cutPoint(r.ContentLength, d.frac)
	got, _ := io.CopyN(io.Discard, r.Body, cut)
	in.record(d, r, got)
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	resetConn(conn)
}

// unknownLength is the body length cutPoint assumes when none is announced.
const unknownLength = 64 << 10

// cutPoint returns where in a body of n bytes (-1: unknown) a fault strikes:
// after at least 1 byte and before the last one.
func cutPoint(n int64, frac float64) int64 {
	if n < 0 {
		n = unknownLength
	}
	if n < 2 {
		return 0
	}
	return 1 + int64(frac*float64(n-1))%(n-1)
}
