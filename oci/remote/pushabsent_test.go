package remote_test

import (
	"bytes"
	"errors"
	"net/http"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/ferry-oci/ferry/internal/registrytest"
	"github.com/ferry-oci/ferry/oci"
	"github.com/ferry-oci/ferry/oci/storetest"
)

// TestPushAbsentSkipsTheHead pushes the same missing blobs with Push and
// with PushAbsent, small (verified in memory) and large (streamed), and
// counts the requests: PushAbsent sends one HEAD fewer and the same upload.
func TestPushAbsentSkipsTheHead(t *testing.T) {
	reg := registrytest.New(t)
	s := newStore(t)
	for _, size := range []int{10, 3 << 20} {
		b, d := storetest.Blob(size, types.OCILayer)
		reg.ResetRequests()
		if err := s.Push(t.Context(), reg.Host+"/pushed/app", d, bytes.NewReader(b)); err != nil {
			t.Fatalf("Push of %d bytes: %v", size, err)
		}
		pushed := reg.Requests().Filter("", "/v2/pushed/") // not the first push's GET /v2/
		reg.ResetRequests()
		if err := s.PushAbsent(t.Context(), reg.Host+"/absent/app", d, bytes.NewReader(b)); err != nil {
			t.Fatalf("PushAbsent of %d bytes: %v", size, err)
		}
		absent := reg.Requests().Filter("", "/v2/absent/")
		if h := pushed.Count(http.MethodHead, ""); h != 1 {
			t.Errorf("%d bytes: Push sent %d HEADs, want 1 (%v)", size, h, pushed)
		}
		if h := absent.Count(http.MethodHead, ""); h != 0 {
			t.Errorf("%d bytes: PushAbsent sent %d HEADs, want 0 (%v)", size, h, absent)
		}
		if len(absent) != len(pushed)-1 || absent.Count(http.MethodPut, "/v2/absent/app/blobs/uploads/") != 1 {
			t.Errorf("%d bytes: PushAbsent sent %v, want Push's %v less its HEAD", size, absent, pushed)
		}
		if ok, err := s.Exists(t.Context(), reg.Host+"/absent/app", d); err != nil || !ok {
			t.Errorf("%d bytes: after PushAbsent Exists = %v, %v; want true", size, ok, err)
		}
	}
}

// TestPushAbsentRefusesWrongContent checks PushAbsent still verifies: content
// that does not match the descriptor's digest is refused and not stored.
func TestPushAbsentRefusesWrongContent(t *testing.T) {
	reg := registrytest.New(t)
	s := newStore(t)
	for _, size := range []int{10, 3 << 20} {
		b, d := storetest.Blob(size, types.OCILayer)
		wrong := bytes.Clone(b)
		wrong[len(wrong)-1] ^= 0xff
		err := s.PushAbsent(t.Context(), reg.Host+"/wrong/app", d, bytes.NewReader(wrong))
		if !errors.Is(err, oci.ErrDigestMismatch) {
			t.Fatalf("%d bytes: PushAbsent of altered content: %v, want ErrDigestMismatch", size, err)
		}
		if ok, err := s.Exists(t.Context(), reg.Host+"/wrong/app", d); err != nil || ok {
			t.Errorf("%d bytes: after the refused push Exists = %v, %v; want false", size, ok, err)
		}
	}
	for _, r := range reg.Requests().Filter(http.MethodPut, "/v2/wrong/app/blobs/") {
		if r.Status/100 == 2 {
			t.Errorf("the registry accepted an upload of altered content: %v", r)
		}
	}
}
