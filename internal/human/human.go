// Package human writes counts and sizes the one way every ferry command
// prints them: binary units (KiB, MiB, …; the same numbers du -h and the
// progress line show) and a noun that agrees with its count.
package human

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// Bytes formats n bytes with binary units: "826 B", "59.0 KiB", "1.2 GiB".
func Bytes(n int64) string {
	const unit = 1024
	if n < unit && n > -unit {
		return fmt.Sprintf("%d B", n)
	}
	f := float64(n)
	exp := -1
	for (f >= unit || f <= -unit) && exp < 5 {
		f /= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", f, "KMGTPE"[exp])
}

// Rate formats bytes per second for n bytes in d: "12.3 MiB/s". It is ""
// when d or n is too small to give a meaningful rate (see MinRateSample).
func Rate(n int64, d time.Duration) string {
	if d < MinRateSample || n < MinRateBytes {
		return ""
	}
	return Bytes(int64(float64(n)/d.Seconds())) + "/s"
}

// A rate is shown only after MinRateSample and MinRateBytes: a first frame
// that saw one cached blob in a millisecond would claim gigabytes a second.
const (
	MinRateSample = time.Second
	MinRateBytes  = 64 << 10
)

// irregular are the plurals that do not add "s".
var irregular = map[string]string{
	"component version": "component versions",
	"index":             "indexes",
	"entry":             "entries",
	"is":                "are",
	"was":               "were",
	"has":               "have",
}

// Plural returns noun for n == 1 and its plural otherwise.
func Plural(n int64, noun string) string {
	if n == 1 || n == -1 {
		return noun
	}
	if p, ok := irregular[noun]; ok {
		return p
	}
	switch {
	case strings.HasSuffix(noun, "s"), strings.HasSuffix(noun, "x"), strings.HasSuffix(noun, "ch"), strings.HasSuffix(noun, "sh"):
		return noun + "es"
	case strings.HasSuffix(noun, "y") && len(noun) > 1 && !strings.ContainsRune("aeiou", rune(noun[len(noun)-2])):
		return noun[:len(noun)-1] + "ies"
	}
	return noun + "s"
}

// Count returns "1 blob", "3 blobs", "0 blobs": n with noun in agreement.
func Count[N ~int | ~int64](n N, noun string) string {
	return fmt.Sprintf("%d %s", n, Plural(int64(n), noun))
}

// Table writes aligned columns, two spaces apart: every table ferry prints
// for people.
type Table struct{ tw *tabwriter.Writer }

// NewTable returns a Table that writes to w once flushed.
func NewTable(w io.Writer) *Table {
	return &Table{tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)}
}

// Row adds a row; a row of one empty column is a blank line.
func (t *Table) Row(cols ...string) { fmt.Fprintln(t.tw, strings.Join(cols, "\t")) }

// Flush writes the table.
func (t *Table) Flush() error { return t.tw.Flush() }
