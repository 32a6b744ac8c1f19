package memory

import (
	"cmp"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestTreeMatchesMap applies random sets and deletes to a tree and a map
// and compares them after each step, including a snapshot taken halfway
// that later writes must not change.
func TestTreeMatchesMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	tr := newTree[int64, int](cmp.Compare[int64])
	want := map[int64]int{}
	var (
		snapshot     tree[int64, int]
		snapshotWant map[int64]int
	)

	for step := range 5000 {
		key := rng.Int64N(300)
		if rng.IntN(3) == 0 {
			_, had := want[key]
			delete(want, key)
			if got := tr.delete(key); got != had {
				t.Fatalf("step %d: delete(%d) = %v, want %v", step, key, got, had)
			}
		} else {
			want[key] = step
			tr.set(key, step)
		}
		if step == 2500 {
			snapshot, snapshotWant = tr, maps.Clone(want)
		}
		if tr.len() != len(want) {
			t.Fatalf("step %d: len = %d, want %d", step, tr.len(), len(want))
		}
	}

	checkTree(t, "tree", &tr, want)
	checkTree(t, "snapshot", &snapshot, snapshotWant)
}

// checkTree compares every way of reading tr with want.
func checkTree(t *testing.T, what string, tr *tree[int64, int], want map[int64]int) {
	t.Helper()
	keys := slices.Sorted(maps.Keys(want))

	var got []int64
	for k, v := range tr.all() {
		if want[k] != v {
			t.Fatalf("%s: value of %d = %d, want %d", what, k, v, want[k])
		}
		got = append(got, k)
	}
	if !slices.Equal(got, keys) {
		t.Fatalf("%s: keys = %v, want %v", what, got, keys)
	}

	for _, from := range []int64{-1, 0, 150, 299, 300} {
		var ascended []int64
		for k := range tr.ascend(from) {
			ascended = append(ascended, k)
		}
		i, _ := slices.BinarySearch(keys, from)
		if !slices.Equal(ascended, keys[i:]) {
			t.Fatalf("%s: ascend(%d) = %v, want %v", what, from, ascended, keys[i:])
		}
	}

	for _, from := range []int64{-1, 0, 150, 299, 300} {
		var descended []int64
		for k := range tr.descend(from) {
			descended = append(descended, k)
		}
		i, found := slices.BinarySearch(keys, from)
		if found {
			i++
		}
		wantDescended := slices.Clone(keys[:i])
		slices.Reverse(wantDescended)
		if !slices.Equal(descended, wantDescended) {
			t.Fatalf("%s: descend(%d) = %v, want %v", what, from, descended, wantDescended)
		}
		if got := tr.countUpTo(from); got != i {
			t.Fatalf("%s: countUpTo(%d) = %d, want %d", what, from, got, i)
		}
		below, _ := slices.BinarySearch(keys, from)
		if got := tr.countBelow(from); got != below {
			t.Fatalf("%s: countBelow(%d) = %d, want %d", what, from, got, below)
		}
	}

	for i, k := range keys {
		if got := tr.keyAt(i); got != k {
			t.Fatalf("%s: keyAt(%d) = %d, want %d", what, i, got, k)
		}
	}
	for lo := int64(-1); lo <= 300; lo += 37 {
		for hi := lo - 5; hi <= 301; hi += 41 {
			inRange := 0
			for _, k := range keys {
				if lo <= k && k <= hi {
					inRange++
				}
			}
			if got := tr.countRange(lo, hi); got != inRange {
				t.Fatalf("%s: countRange(%d, %d) = %d, want %d", what, lo, hi, got, inRange)
			}
		}
	}

	for k, v := range want {
		if got, ok := tr.get(k); !ok || got != v {
			t.Fatalf("%s: get(%d) = %d, %v, want %d, true", what, k, got, ok, v)
		}
	}
}
