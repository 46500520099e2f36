package cli

import (
	"io"
	"log/slog"
	"strings"
)

// logger returns the logger for stderr at the level -v asks for: warnings
// and progress lines by default, debug details with -v.
func (g *globals) logger() *slog.Logger {
	g.logOnce.Do(func() {
		level := slog.LevelInfo
		if g.verbosity > 0 {
			level = slog.LevelDebug
		}
		g.log = slog.New(slog.NewTextHandler(g.stderr, &slog.HandlerOptions{
			Level: level,
			ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
				if a.Key == slog.TimeKey {
					return slog.Attr{} // CI logs carry their own time
				}
				return a
			},
		}))
	})
	return g.log
}

// StdLog returns a writer for the standard library's logger
// (log.SetOutput): each line it is given goes into ferry's structured log
// on w as a warning, so that what net/http or crypto/tls log on their own
// ("RoundTripper returned a response & error", a TLS handshake error) does
// not reach stderr outside it. The command sets it once for the process.
func StdLog(w io.Writer) io.Writer { return stdLog{&globals{stderr: w}} }

type stdLog struct{ g *globals }

func (w stdLog) Write(p []byte) (int, error) {
	w.g.logger().Warn(strings.TrimSpace(string(p)), "source", "go")
	return len(p), nil
}
