package cli

import (
	"bytes"
	"log"
	"strings"
	"testing"
)

// TestStdLogGoesThroughTheLogger: what the standard library logs on its own
// (net/http, crypto/tls) comes out as a structured warning, not a raw line.
func TestStdLogGoesThroughTheLogger(t *testing.T) {
	var buf bytes.Buffer
	log.New(StdLog(&buf), "", 0).Print("RoundTripper returned a response & error; ignoring response")
	got := buf.String()
	if !strings.HasPrefix(got, "level=WARN ") || !strings.Contains(got, `msg="RoundTripper returned a response & error; ignoring response" source=go`) {
		t.Errorf("stderr: %q", got)
	}
}
