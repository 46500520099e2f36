package remote

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/ferry-oci/ferry/oci"
)

func TestHint(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{&RequestError{Host: "r.example", Err: oci.ErrUnauthorized}, "docker login r.example"},
		{fmt.Errorf("push: %w", &RequestError{Host: "r.example", Err: oci.ErrDenied}), "credentials for r.example are valid"},
		{&PlainHTTPError{Host: "r.example"}, "pass --plain-http"},
		{errors.New("Get x: http: server gave HTTP response to HTTPS client"), "the registry speaks plain HTTP"},
		{errors.New("remote error: tls: certificate required"), "client certificate"},
		{errors.New("something else"), ""},
	} {
		got := Hint(tc.err)
		if tc.want == "" && got != "" || !strings.Contains(got, tc.want) {
			t.Errorf("Hint(%v) = %q, want it to contain %q", tc.err, got, tc.want)
		}
	}
}

func TestHostOr(t *testing.T) {
	if got := HostOr(errors.New("x"), "the registry"); got != "the registry" {
		t.Errorf("HostOr without a host = %q", got)
	}
	if got := HostOr(&RequestError{Host: "h:5000", Err: oci.ErrNotFound}, "the registry"); got != "h:5000" {
		t.Errorf("HostOr = %q, want h:5000", got)
	}
}
