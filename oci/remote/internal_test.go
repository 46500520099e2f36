package remote

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/ferry-oci/ferry/oci"
)

type countingRT struct{ n int }

func (c *countingRT) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n++
	return nil, errors.New("not sent")
}

func TestGuardRefusesPlainHTTPBeforeSending(t *testing.T) {
	tests := []struct {
		url       string
		plainHTTP bool
		refused   bool
	}{
		{"http://registry.example.invalid/v2/", false, true},
		{"http://192.168.1.10:5000/v2/", false, true},
		{"http://10.0.0.1/v2/", false, true},
		{"http://172.16.0.1/v2/", false, true},
		{"https://registry.example.invalid/v2/", false, false},
		{"http://127.0.0.1:5000/v2/", false, false},
		{"http://127.3.4.5:5000/v2/", false, false},
		{"http://[::1]:5000/v2/", false, false},
		{"http://localhost:5000/v2/", false, false},
		{"http://registry.example.invalid/v2/", true, false},
	}
	for _, tc := range tests {
		base := &countingRT{}
		c := &core{base: base, plainHTTP: tc.plainHTTP, userAgent: "t", maxAttempts: 1, log: slog.New(slog.DiscardHandler)}
		req, _ := http.NewRequest(http.MethodGet, tc.url, nil)
		_, err := c.RoundTrip(req)
		var pe *PlainHTTPError
		if refused := errors.As(err, &pe); refused != tc.refused || (base.n == 0) != tc.refused {
			t.Errorf("%s (plainHTTP %v): refused %v after %d requests sent, want refused %v", tc.url, tc.plainHTTP, refused, base.n, tc.refused)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"1", time.Second, true},
		{" 0 ", 0, true},
		{"3600", maxRetryAfter, true},
		{now.Add(5 * time.Second).Format(http.TimeFormat), 5 * time.Second, true},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
		{now.Add(time.Hour).Format(http.TimeFormat), maxRetryAfter, true},
		{"", 0, false},
		{"-1", 0, false},
		{"soon", 0, false},
	}
	for _, tc := range tests {
		got, ok := parseRetryAfter(tc.in, now)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestBackoffGrowsWithJitter(t *testing.T) {
	c := &core{backoff: 100 * time.Millisecond}
	for attempt, want := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 3: 400 * time.Millisecond, 20: maxBackoff} {
		for range 50 {
			if got := c.backoffFor(attempt); got < want/2 || got > want {
				t.Fatalf("backoffFor(%d) = %v, want in [%v, %v]", attempt, got, want/2, want)
			}
		}
	}
}

func TestRedactURL(t *testing.T) {
	u, _ := url.Parse("https://user:hunter2@reg.example/v2/a/blobs/uploads/x?_state=SECRET&digest=sha256:ab&X-Amz-Signature=SIG")
	got := redactURL(u)
	for _, secret := range []string{"hunter2", "user", "SECRET", "SIG"} {
		if strings.Contains(got, secret) {
			t.Errorf("redactURL = %s, contains %q", got, secret)
		}
	}
	if !strings.Contains(got, "digest=sha256%3Aab") || !strings.Contains(got, "/v2/a/blobs/uploads/x") {
		t.Errorf("redactURL = %s, lost the path or the digest", got)
	}
}

func TestHoldBackWithholdsUnverifiedEnd(t *testing.T) {
	b := bytes.Repeat([]byte("0123456789"), 10000)
	d := oci.DescriptorOf(types.OCILayer, b)
	flipped := bytes.Clone(b)
	flipped[len(b)-1] ^= 1
	tests := []struct {
		name    string
		content []byte
		want    error
	}{
		{"intact", b, nil},
		{"extra bytes", append(bytes.Clone(b), "tail"...), oci.ErrSizeMismatch},
		{"last byte flipped", flipped, oci.ErrDigestMismatch},
		{"truncated", b[:len(b)-1], oci.ErrSizeMismatch},
	}
	for _, tc := range tests {
		vr, err := oci.VerifyReader(bytes.NewReader(tc.content), d)
		if err != nil {
			t.Fatal(err)
		}
		// Read as an upload does: a limit of the announced size, in small chunks.
		var got bytes.Buffer
		_, err = io.CopyBuffer(&got, io.LimitReader(&holdBack{r: vr, size: d.Size}, d.Size), make([]byte, 4096))
		if tc.want == nil {
			if err != nil || got.Len() != len(b) {
				t.Errorf("%s: passed %d bytes, %v", tc.name, got.Len(), err)
			}
			continue
		}
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
		}
		if int64(got.Len()) >= d.Size {
			t.Errorf("%s: passed all %d bytes on before the content failed", tc.name, got.Len())
		}
	}
}

func TestNextLink(t *testing.T) {
	req, _ := http.NewRequest(http.MethodGet, "https://reg.example/v2/a/tags/list?n=2", nil)
	resp := &http.Response{Request: req, Header: http.Header{"Link": {`</v2/a/tags/list?n=2&last=b>; rel="next"`}}}
	if got, ok := nextLink(resp); !ok || got != "https://reg.example/v2/a/tags/list?n=2&last=b" {
		t.Errorf("nextLink = %q, %v", got, ok)
	}
	resp.Header.Set("Link", `</other>; rel="prev"`)
	if _, ok := nextLink(resp); ok {
		t.Error("nextLink followed rel=prev")
	}
}
