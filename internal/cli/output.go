package cli

import (
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"strings"

	"golang.org/x/term"
	"sigs.k8s.io/yaml"

	"github.com/ferry-oci/ferry/internal/progress"
	"github.com/ferry-oci/ferry/release"
)

// show writes v to stdout as JSON or YAML, or, for the table format, as
// writeTable (a result's WriteTable) writes it.
func (g *globals) show(v any, writeTable func(io.Writer) error) error {
	switch g.output {
	case "json":
		enc := json.NewEncoder(g.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	case "yaml":
		b, err := yaml.Marshal(v)
		if err != nil {
			return err
		}
		_, err = g.stdout.Write(b)
		return err
	}
	return writeTable(g.stdout)
}

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

// startProgress starts the progress line of a run (internal/progress) for
// what in the planning phase (verifying, when ro has signature gates) and
// feeds it ro's events: redrawn in place on a terminal, a log line every
// few seconds otherwise. Without a line (--no-progress, or no terminal and
// a -o other than table) it returns nil, which does nothing. Finish it
// before printing.
func (g *globals) startProgress(what string, ro *release.Options) *progress.Bar {
	isTerm := isTerminal(g.stderr)
	if g.noProgress || !isTerm && g.output != "table" {
		return nil
	}
	o := progress.Options{Terminal: isTerm, Log: g.logger(),
		Escapes: isTerm && os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb"}
	if f, ok := g.stderr.(*os.File); ok && isTerm {
		o.Width = func() int { w, _, _ := term.GetSize(int(f.Fd())); return w }
	}
	bar := progress.New(g.stderr, what, o)
	if len(ro.Verify) > 0 || ro.VerifyImage != nil {
		bar.SetPhase(progress.Verifying)
	}
	ro.Progress = bar.Event
	return bar
}

func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
