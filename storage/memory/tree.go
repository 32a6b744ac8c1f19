package memory

import (
	"iter"
	"math/rand/v2"
)

// tree is an ordered map that is never changed in place. set and delete
// copy the nodes on the path to the key and leave every other node shared,
// so a copy of a tree value is an O(1) snapshot that later writes to the
// original do not affect. It is a treap: a binary search tree on the keys
// that is a heap on random priorities, which keeps the expected depth
// O(log n).
//
// A tree value is not safe for concurrent writes, but any number of
// goroutines may read a tree that no goroutine writes.
type tree[K, V any] struct {
	root *node[K, V]
	cmp  func(a, b K) int
}

type node[K, V any] struct {
	key         K
	value       V
	priority    uint64
	size        int
	left, right *node[K, V]
}

func newTree[K, V any](cmp func(a, b K) int) tree[K, V] {
	return tree[K, V]{cmp: cmp}
}

func (n *node[K, V]) len() int {
	if n == nil {
		return 0
	}
	return n.size
}

// with returns a copy of n with new children and an updated size.
func (n *node[K, V]) with(left, right *node[K, V]) *node[K, V] {
	c := *n
	c.left, c.right = left, right
	c.size = 1 + left.len() + right.len()
	return &c
}

// len returns the number of keys.
func (t *tree[K, V]) len() int { return t.root.len() }

// get returns the value of key.
func (t *tree[K, V]) get(key K) (V, bool) {
	n := t.root
	for n != nil {
		switch c := t.cmp(key, n.key); {
		case c < 0:
			n = n.left
		case c > 0:
			n = n.right
		default:
			return n.value, true
		}
	}
	var zero V
	return zero, false
}

// has reports whether key is in the tree.
func (t *tree[K, V]) has(key K) bool {
	_, ok := t.get(key)
	return ok
}

// set stores value under key, replacing any value it had.
func (t *tree[K, V]) set(key K, value V) {
	t.root = t.insert(t.root, key, value, rand.Uint64())
}

func (t *tree[K, V]) insert(n *node[K, V], key K, value V, priority uint64) *node[K, V] {
	if n == nil {
		return &node[K, V]{key: key, value: value, priority: priority, size: 1}
	}
	switch c := t.cmp(key, n.key); {
	case c < 0:
		c := n.with(t.insert(n.left, key, value, priority), n.right)
		if c.left.priority > c.priority {
			return rotateRight(c)
		}
		return c
	case c > 0:
		c := n.with(n.left, t.insert(n.right, key, value, priority))
		if c.right.priority > c.priority {
			return rotateLeft(c)
		}
		return c
	default:
		c := n.with(n.left, n.right)
		c.value = value
		return c
	}
}

// rotateRight lifts n.left above n. Both nodes must be fresh copies that no
// snapshot shares, because the rotation changes them.
func rotateRight[K, V any](n *node[K, V]) *node[K, V] {
	l := n.left
	n.left = l.right
	n.size = 1 + n.left.len() + n.right.len()
	l.right = n
	l.size = 1 + l.left.len() + n.size
	return l
}

// rotateLeft lifts n.right above n, under the same condition as
// rotateRight.
func rotateLeft[K, V any](n *node[K, V]) *node[K, V] {
	r := n.right
	n.right = r.left
	n.size = 1 + n.left.len() + n.right.len()
	r.left = n
	r.size = 1 + n.size + r.right.len()
	return r
}

// delete removes key and reports whether it was there.
func (t *tree[K, V]) delete(key K) bool {
	root, ok := t.remove(t.root, key)
	t.root = root
	return ok
}

func (t *tree[K, V]) remove(n *node[K, V], key K) (*node[K, V], bool) {
	if n == nil {
		return nil, false
	}
	switch c := t.cmp(key, n.key); {
	case c < 0:
		left, ok := t.remove(n.left, key)
		if !ok {
			return n, false
		}
		return n.with(left, n.right), true
	case c > 0:
		right, ok := t.remove(n.right, key)
		if !ok {
			return n, false
		}
		return n.with(n.left, right), true
	default:
		return merge(n.left, n.right), true
	}
}

// merge joins two treaps whose keys are all smaller in a than in b.
func merge[K, V any](a, b *node[K, V]) *node[K, V] {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	case a.priority > b.priority:
		return a.with(a.left, merge(a.right, b))
	default:
		return b.with(merge(a, b.left), b.right)
	}
}

// ascend yields the entries with keys at or after from, in key order.
func (t *tree[K, V]) ascend(from K) iter.Seq2[K, V] {
	return func(yield func(K, V) bool) {
		t.ascendNode(t.root, from, yield)
	}
}

func (t *tree[K, V]) ascendNode(n *node[K, V], from K, yield func(K, V) bool) bool {
	if n == nil {
		return true
	}
	c := t.cmp(from, n.key)
	if c < 0 && !t.ascendNode(n.left, from, yield) {
		return false
	}
	if c <= 0 && !yield(n.key, n.value) {
		return false
	}
	return t.ascendNode(n.right, from, yield)
}

// all yields every entry in key order.
func (t *tree[K, V]) all() iter.Seq2[K, V] {
	return func(yield func(K, V) bool) {
		allNode(t.root, yield)
	}
}

func allNode[K, V any](n *node[K, V], yield func(K, V) bool) bool {
	if n == nil {
		return true
	}
	return allNode(n.left, yield) && yield(n.key, n.value) && allNode(n.right, yield)
}

// descend yields the entries with keys at or before from, in reverse key
// order.
func (t *tree[K, V]) descend(from K) iter.Seq2[K, V] {
	return func(yield func(K, V) bool) {
		t.descendNode(t.root, from, yield)
	}
}

func (t *tree[K, V]) descendNode(n *node[K, V], from K, yield func(K, V) bool) bool {
	if n == nil {
		return true
	}
	c := t.cmp(from, n.key)
	if c > 0 && !t.descendNode(n.right, from, yield) {
		return false
	}
	if c >= 0 && !yield(n.key, n.value) {
		return false
	}
	return t.descendNode(n.left, from, yield)
}

// countBelow returns the number of keys before key, in O(log n) from the
// subtree sizes.
func (t *tree[K, V]) countBelow(key K) int {
	count := 0
	n := t.root
	for n != nil {
		if t.cmp(key, n.key) <= 0 {
			n = n.left
		} else {
			count += n.left.len() + 1
			n = n.right
		}
	}
	return count
}

// countUpTo returns the number of keys at or before key.
func (t *tree[K, V]) countUpTo(key K) int {
	count := 0
	n := t.root
	for n != nil {
		if t.cmp(key, n.key) < 0 {
			n = n.left
		} else {
			count += n.left.len() + 1
			n = n.right
		}
	}
	return count
}

// countRange returns the number of keys from lo to hi, both included.
func (t *tree[K, V]) countRange(lo, hi K) int {
	return max(t.countUpTo(hi)-t.countBelow(lo), 0)
}

// keyAt returns the key at position i (from 0) in key order. i must be
// below len.
func (t *tree[K, V]) keyAt(i int) K {
	n := t.root
	for {
		switch l := n.left.len(); {
		case i < l:
			n = n.left
		case i == l:
			return n.key
		default:
			i -= l + 1
			n = n.right
		}
	}
}
