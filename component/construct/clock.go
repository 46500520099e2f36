package construct

import (
	"fmt"
	"os"
	"strconv"
	"time"
)

// Clock is the clock for creationTime (Options.Now): the time flag gives
// (RFC 3339), else the one SOURCE_DATE_EPOCH gives (seconds since 1970, for
// reproducible builds), else time.Now.
func Clock(flag string) (func() time.Time, error) {
	if flag != "" {
		t, err := time.Parse(time.RFC3339, flag)
		if err != nil {
			return nil, fmt.Errorf("--creation-time %q: want RFC 3339 (2026-01-02T15:04:05Z)", flag)
		}
		return func() time.Time { return t }, nil
	}
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		sec, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("SOURCE_DATE_EPOCH %q: want seconds since 1970", s)
		}
		t := time.Unix(sec, 0).UTC()
		return func() time.Time { return t }, nil
	}
	return time.Now, nil
}
