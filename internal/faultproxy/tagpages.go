package faultproxy

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
)

// TagPages lies about tag lists, as a registry (or a proxy in front of one)
// that wants to exhaust its clients: every GET of /v2/…/tags/list is
// answered with a page of made-up tags of about PageBytes bytes and a Link
// header naming a next page, a new one each time (pages never end) or, with
// Loop, the page itself. Every other request passes through to the registry.
type TagPages struct {
	PageBytes int
	Loop      bool

	requests atomic.Int64
}

// Requests returns how many tag-list requests were answered with a lie.
func (tp *TagPages) Requests() int64 { return tp.requests.Load() }

// Wrap puts the lie in front of next, for registrytest.WithHandlerWrapper.
func (tp *TagPages) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || !strings.HasSuffix(r.URL.Path, "/tags/list") {
			next.ServeHTTP(w, r)
			return
		}
		n := tp.requests.Add(1)
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		name := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/v2/"), "/tags/list")
		var b strings.Builder
		fmt.Fprintf(&b, `{"name":%q,"tags":[`, name)
		for i := 0; b.Len() < tp.PageBytes; i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `"v%d.%d"`, page, i)
		}
		b.WriteString("]}")
		nextPage := page
		if !tp.Loop {
			nextPage = int(n)
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Link", fmt.Sprintf(`<%s?n=1000&page=%d>; rel="next"`, r.URL.Path, nextPage))
		w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
		_, _ = w.Write([]byte(b.String()))
	})
}
