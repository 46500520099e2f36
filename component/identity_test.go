package component

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// identityByRule is §1.4 applied to one element, the slow way: its
// extraIdentity and name, plus its version when any other element has the
// same name and an equal extraIdentity.
func identityByRule(elems []ElementMeta, i int) Identity {
	id := Identity{}
	for k, v := range elems[i].ExtraIdentity {
		id[k] = v
	}
	id["name"] = elems[i].Name
	for j, o := range elems {
		if j != i && o.Name == elems[i].Name && o.ExtraIdentity.Equal(elems[i].ExtraIdentity) {
			id["version"] = elems[i].Version
		}
	}
	return id
}

// The one-pass identities agree with the rule on descriptors full of
// clashing names, nil and empty extraIdentities, and names whose quoting
// could run into the extraIdentity.
func TestIdentitiesFollowTheRule(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	extras := []Identity{nil, {}, {"os": "linux"}, {"os": "linux", "arch": "amd64"}, {"arch": "amd64"}, {"os": `linux","x`}}
	names := []string{"app", "db", `app"`, "app\x00", "cache"}
	for round := range 200 {
		n := 1 + rng.IntN(40)
		d := &Descriptor{}
		for i := range n {
			d.Resources = append(d.Resources, Resource{ElementMeta: ElementMeta{
				Name: names[rng.IntN(len(names))], Version: fmt.Sprintf("1.%d.0", i), ExtraIdentity: extras[rng.IntN(len(extras))]}})
		}
		metas := resourceMetas(d.Resources)
		got := d.ResourceIdentities()
		lookup := d.ResourceLookup()
		for i := range metas {
			want := identityByRule(metas, i)
			if !got[i].Equal(want) {
				t.Fatalf("round %d, resource %d: identity %v, want %v", round, i, got[i], want)
			}
			first := -1
			for j := range metas {
				if identityByRule(metas, j).Equal(want) {
					first = j
					break
				}
			}
			if k := lookup(want); k != first {
				t.Fatalf("round %d: lookup of %v = %d, want %d", round, want, k, first)
			}
		}
		if k := lookup(Identity{"name": "absent"}); k != -1 {
			t.Fatalf("lookup of an absent resource = %d", k)
		}
	}
}

// A version of 2,000 resources: every identity, and a lookup of each. With
// the rule applied element by element, an identity cost a pass over all
// resources and a lookup a pass of those: cubic in the resources.
func BenchmarkResourceIdentities2000(b *testing.B) {
	d := &Descriptor{}
	for i := range 2000 {
		d.Resources = append(d.Resources, Resource{ElementMeta: ElementMeta{Name: fmt.Sprintf("image-%04d", i), Version: "1.0.0"}})
	}
	for b.Loop() {
		lookup := d.ResourceLookup()
		for _, id := range d.ResourceIdentities() {
			if lookup(id) < 0 {
				b.Fatal("not found")
			}
		}
	}
}
