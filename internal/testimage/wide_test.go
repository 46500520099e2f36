package testimage

import "testing"

func TestWide(t *testing.T) {
	s := Wide(1, 50)
	st := s.Stats()
	if st.Artifacts != 50 || st.UniqueLayers != 50*WideLayers+1 || st.Layers != 50*(WideLayers+1) {
		t.Fatalf("stats %+v", st)
	}
	per := float64(st.UniqueBytes-(64<<10)) / float64(50*WideLayers)
	if per < 12<<10 || per > 20<<10 {
		t.Errorf("own layers average %.0f bytes, want about 16 KiB", per)
	}
	// A prefix of a wider release is the narrower release.
	a, _ := Wide(1, 3)[2].Artifact.Descriptor()
	b, _ := s[2].Artifact.Descriptor()
	if a.Digest != b.Digest {
		t.Errorf("image 3 differs: %s, %s", a.Digest, b.Digest)
	}
}
