package serve

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/distribution/distribution/v3/configuration"
	"github.com/distribution/distribution/v3/registry/handlers"
)

// defaultShutdownTimeout bounds Run's graceful shutdown when neither Options nor the file
// say otherwise.
const defaultShutdownTimeout = 10 * time.Second

// Server is the registry `ferry serve` runs: distribution's app in ferry's own http.Server.
// Make one with New, then Start and Shutdown it, or let Run do both.
type Server struct {
	opts Options
	cfg  *configuration.Configuration
	tls  *tls.Config

	mu   sync.Mutex
	app  *handlers.App
	srv  *http.Server
	ln   net.Listener
	done chan struct{} // closed when Serve returns
	err  error         // Serve's error, other than http.ErrServerClosed
	shut bool          // Shutdown has run
}

// New checks o (see Options.Configuration and Validate) and returns a Server that is not yet
// listening. Errors about the configuration are *ConfigError.
func New(o Options) (*Server, error) {
	cfg, err := o.Configuration()
	if err != nil {
		return nil, err
	}
	tc, err := tlsConfig(cfg)
	if err != nil {
		return nil, err
	}
	return &Server{opts: o, cfg: cfg, tls: tc}, nil
}

// Start sets distribution's logging (see SetLogging; log.formatter applies too), creates the registry app, listens and
// serves in the background. It returns once the listener is open, so Addr is known. ctx
// bounds only the start; stop the server with Shutdown (or run it with Run).
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		return errors.New("starting registry: already started")
	}
	if err := setLogging(string(s.cfg.Log.Level), s.cfg.Log.Formatter, s.opts.LogOutput); err != nil {
		return err
	}

	// The app lives until Shutdown, not until ctx is done.
	app, err := NewApp(context.WithoutCancel(ctx), s.cfg)
	if err != nil {
		return err
	}
	network := s.cfg.HTTP.Net
	if network == "" {
		network = "tcp"
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, network, s.cfg.HTTP.Addr)
	if err != nil {
		_ = app.Shutdown()
		return fmt.Errorf("starting registry: %w", err)
	}
	if s.tls != nil {
		ln = tls.NewListener(ln, s.tls)
	}
	s.app, s.ln = app, ln
	s.srv = &http.Server{
		Handler:           Handler(app, s.cfg),
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	s.done = make(chan struct{})
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.mu.Lock()
			s.err = fmt.Errorf("serving registry: %w", err)
			s.mu.Unlock()
		}
	}()
	return nil
}

// Handler returns app, the registry NewApp made for cfg, as ferry serve answers with it:
// blob bodies from their files when cfg's storage is plain files (see withBlobFiles), and
// cfg's http.headers on every response.
func Handler(app http.Handler, cfg *configuration.Configuration) http.Handler {
	h := app
	if root := blobFileRoot(cfg); root != "" {
		h = withBlobFiles(h, root)
	}
	if len(cfg.HTTP.Headers) > 0 {
		h = withHeaders(h, cfg.HTTP.Headers)
	}
	return h
}

// withHeaders adds http.headers from the configuration to every response, as distribution's
// own server does.
func withHeaders(next http.Handler, headers http.Header) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, vs := range headers {
			for _, v := range vs {
				w.Header().Add(k, v)
			}
		}
		next.ServeHTTP(w, r)
	})
}

// Addr returns the address the server listens on, such as "127.0.0.1:41234" after a start
// on port 0; before Start it returns the configured address.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln != nil {
		return s.ln.Addr().String()
	}
	return s.cfg.HTTP.Addr
}

// URL returns "http://ADDR" or "https://ADDR".
func (s *Server) URL() string {
	if s.tls != nil {
		return "https://" + s.Addr()
	}
	return "http://" + s.Addr()
}

// Shutdown stops accepting connections, waits for requests in flight until ctx is done
// (closing the rest then), and stops the app's background work. Calls after the first, or
// before Start, do nothing. A connection a client opened but has not used yet counts as
// in flight for up to 5 seconds (net/http's rule). Pass a context with a fresh timeout, not one that
// is already cancelled: a cancelled ctx closes connections at once.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	srv, app, shut := s.srv, s.app, s.shut
	s.shut = true
	s.mu.Unlock()
	if srv == nil || shut {
		return nil
	}
	err := srv.Shutdown(ctx)
	if err != nil {
		// Time is up; cut the remaining connections.
		_ = srv.Close()
		err = fmt.Errorf("shutting down registry: %w", err)
	}
	if aerr := app.Shutdown(); aerr != nil && err == nil {
		err = fmt.Errorf("shutting down registry: %w", aerr)
	}
	<-s.done
	return err
}

// Wait blocks until the server stops serving, after Shutdown or a failure of the listener,
// and returns that failure (nil after Shutdown). It returns nil at once if Start was not
// called.
func (s *Server) Wait() error {
	s.mu.Lock()
	done := s.done
	s.mu.Unlock()
	if done == nil {
		return nil
	}
	<-done
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Run starts the server, calls ready (if not nil) with it once it listens, serves until ctx
// is done or serving fails, then shuts down gracefully within Options.ShutdownTimeout (or
// the file's http.draintimeout, or 10 seconds), measured from a fresh context.
func (s *Server) Run(ctx context.Context, ready func(*Server)) error {
	if err := s.Start(ctx); err != nil {
		return err
	}
	if ready != nil {
		ready(s)
	}
	select {
	case <-ctx.Done():
	case <-s.done:
		return s.Wait()
	}
	timeout := s.opts.ShutdownTimeout
	if timeout <= 0 {
		timeout = s.cfg.HTTP.DrainTimeout
	}
	if timeout <= 0 {
		timeout = defaultShutdownTimeout
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	if err := s.Shutdown(sctx); err != nil {
		return err
	}
	return s.Wait()
}
