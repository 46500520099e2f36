package cosign

import "testing"

func TestPasswordFromEnvironment(t *testing.T) {
	t.Setenv("COSIGN_PASSWORD", "s3cret")
	p, err := Password()
	if err != nil || string(p) != "s3cret" {
		t.Fatalf("Password() = %q, %v; want the environment's", p, err)
	}
	t.Setenv("COSIGN_PASSWORD", "")
	if p, err := Password(); err != nil || len(p) != 0 {
		t.Fatalf("an empty COSIGN_PASSWORD: %q, %v; want it as it is", p, err)
	}
}
