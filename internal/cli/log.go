package cli

import "log/slog"

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
