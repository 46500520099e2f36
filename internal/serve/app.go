package serve

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/distribution/distribution/v3/configuration"
	"github.com/distribution/distribution/v3/registry/handlers"
	"github.com/sirupsen/logrus"
)

// NewApp validates cfg (see Validate) and returns distribution's registry app for it. A panic
// inside handlers.NewApp, for a setting Validate does not cover (middleware, notifications,
// proxy), comes back as an error. An htpasswd access controller is given a cache of verified
// credentials (see credentialCache). The app's background work (upload purging) runs until
// app.Shutdown is called or ctx is done; NewApp may complete settings in cfg (as
// handlers.NewApp does), so cfg must not be shared with another running app.
func NewApp(ctx context.Context, cfg *configuration.Configuration) (app *handlers.App, err error) {
	if err := Validate(cfg); err != nil {
		return nil, err
	}
	useCredentialCache(cfg)
	defer func() {
		if r := recover(); r != nil {
			app, err = nil, fmt.Errorf("starting registry: %v", r)
		}
	}()
	return handlers.NewApp(ctx, cfg), nil
}

// SetLogging points distribution's logging at w (nil means os.Stderr) with the logrus level
// named by level ("" means "error"). Distribution logs through logrus's standard logger, so
// this is process-wide: the last call wins.
//
// At levels error and warn, the line distribution logs at error level for every client
// error (an unknown blob or manifest, a 401) is dropped: a push asks for each blob before
// sending it, so those lines would drown the failures of the registry itself (5xx), which
// are kept.
func SetLogging(level string, w io.Writer) error { return setLogging(level, "", w) }

func setLogging(level, formatter string, w io.Writer) error {
	if level == "" {
		level = "error"
	}
	l, err := logrus.ParseLevel(level)
	if err != nil {
		return fmt.Errorf("setting log level: unknown level %q", level)
	}
	if w == nil {
		w = os.Stderr
	}
	var f logrus.Formatter
	switch formatter {
	case "json":
		f = &logrus.JSONFormatter{TimestampFormat: time.RFC3339Nano, DisableHTMLEscape: true}
	case "logstash":
		f = &logrus.JSONFormatter{
			TimestampFormat: time.RFC3339Nano,
			FieldMap:        logrus.FieldMap{logrus.FieldKeyFunc: "function"},
		}
	default:
		f = &logrus.TextFormatter{TimestampFormat: time.RFC3339Nano}
	}
	if l <= logrus.WarnLevel {
		f = clientErrorFilter{f}
	}
	logrus.SetLevel(l)
	logrus.SetOutput(w)
	logrus.SetFormatter(f)
	return nil
}

// clientErrorFilter drops distribution's "response completed with error" entries for
// responses below 500. Writing no bytes is how a logrus formatter drops an entry.
type clientErrorFilter struct{ logrus.Formatter }

func (f clientErrorFilter) Format(e *logrus.Entry) ([]byte, error) {
	if e.Message == "response completed with error" {
		if status, err := strconv.Atoi(fmt.Sprint(e.Data["http.response.status"])); err == nil && status < 500 {
			return nil, nil
		}
	}
	return f.Formatter.Format(e)
}
