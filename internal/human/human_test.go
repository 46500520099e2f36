package human

import (
	"testing"
	"time"
)

func TestBytes(t *testing.T) {
	for n, want := range map[int64]string{
		0: "0 B", 826: "826 B", 1023: "1023 B", 1024: "1.0 KiB", 60416: "59.0 KiB",
		50 << 20: "50.0 MiB", 3 << 30: "3.0 GiB", 1 << 40: "1.0 TiB",
	} {
		if got := Bytes(n); got != want {
			t.Errorf("Bytes(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestCount(t *testing.T) {
	for _, tc := range []struct {
		n    int
		noun string
		want string
	}{
		{1, "blob", "1 blob"}, {0, "blob", "0 blobs"}, {2, "blob", "2 blobs"},
		{1, "component version", "1 component version"}, {3, "component version", "3 component versions"},
		{2, "index", "2 indexes"}, {1, "manifest", "1 manifest"}, {4, "registry request", "4 registry requests"},
		{2, "entry", "2 entries"}, {2, "file", "2 files"}, {2, "key", "2 keys"}, {2, "tag", "2 tags"},
	} {
		if got := Count(tc.n, tc.noun); got != tc.want {
			t.Errorf("Count(%d, %q) = %q, want %q", tc.n, tc.noun, got, tc.want)
		}
	}
}

func TestRateNeedsASample(t *testing.T) {
	if got := Rate(50<<20, time.Millisecond); got != "" {
		t.Errorf("a 1ms sample gives a rate: %q", got)
	}
	if got := Rate(100, 5*time.Second); got != "" {
		t.Errorf("100 bytes give a rate: %q", got)
	}
	if got := Rate(20<<20, 2*time.Second); got != "10.0 MiB/s" {
		t.Errorf("Rate = %q", got)
	}
}
