package memory

import (
	"cmp"
	"strings"

	"github.com/sharepanel/sharepanel/domain"
)

// timeKey orders a user's rows by creation time in microseconds, then id.
type timeKey struct {
	userID int64
	micros int64
	id     int64
}

func compareTimeKey(x, y timeKey) int {
	if c := cmp.Compare(x.userID, y.userID); c != 0 {
		return c
	}
	if c := cmp.Compare(x.micros, y.micros); c != 0 {
		return c
	}
	return cmp.Compare(x.id, y.id)
}

// statusKey orders a user's rows by status, then id, so the rows of one
// status form a range.
type statusKey struct {
	userID int64
	status string
	id     int64
}

func compareStatusKey(x, y statusKey) int {
	if c := cmp.Compare(x.userID, y.userID); c != 0 {
		return c
	}
	if c := strings.Compare(x.status, y.status); c != 0 {
		return c
	}
	return cmp.Compare(x.id, y.id)
}

// userRange returns the first and last possible keys of user a in an index
// keyed by (user id, row id).
func userRange(a int64) (lo, hi pair) {
	return pair{a, minID}, pair{a, maxID}
}

// pageRange returns the keys from lo to hi, both included, that p selects,
// in key order or, when newestFirst is set, in reverse, together with the
// number of keys in the range. It finds the range's ends and the page's
// start from the subtree sizes, so it costs O(log n) plus the page's
// length, however many keys the range holds. p follows the rules of page.
func pageRange[K any](index *tree[K, struct{}], lo, hi K, newestFirst bool, p domain.Page) ([]K, int) {
	below := index.countBelow(lo)
	upTo := index.countUpTo(hi)
	total := max(upTo-below, 0)

	offset := max(p.Offset, 0)
	if offset >= total {
		return nil, total
	}
	n := total - offset
	if p.Limit >= 0 {
		n = min(n, p.Limit)
	}
	if n == 0 {
		return nil, total
	}

	keys := make([]K, 0, n)
	if newestFirst {
		for k := range index.descend(index.keyAt(upTo - 1 - offset)) {
			keys = append(keys, k)
			if len(keys) == n {
				break
			}
		}
		return keys, total
	}
	for k := range index.ascend(index.keyAt(below + offset)) {
		keys = append(keys, k)
		if len(keys) == n {
			break
		}
	}
	return keys, total
}

// countUser returns the number of user a's keys in an index keyed by
// (user id, row id).
func countUser(index *tree[pair, struct{}], a int64) int {
	lo, hi := userRange(a)
	return index.countRange(lo, hi)
}

// pageUser returns the row ids of user a that p selects from an index keyed
// by (user id, row id), newest (highest id) first, and how many a has.
func pageUser(index *tree[pair, struct{}], a int64, p domain.Page) ([]int64, int) {
	lo, hi := userRange(a)
	keys, total := pageRange(index, lo, hi, true, p)
	ids := make([]int64, len(keys))
	for i, k := range keys {
		ids[i] = k.b
	}
	return ids, total
}

// scanUser returns up to limit row ids of user a above afterID, ascending,
// from an index keyed by (user id, row id). A negative limit means no
// limit, as in SQLite.
func scanUser(index *tree[pair, struct{}], a, afterID int64, limit int) []int64 {
	ids := []int64{}
	if limit == 0 {
		return ids
	}
	for k := range index.ascend(pair{a, afterID}) {
		if k.a != a {
			break
		}
		if k.b == afterID {
			continue
		}
		ids = append(ids, k.b)
		if len(ids) == limit {
			break
		}
	}
	return ids
}

// lastOfUser returns user a's highest row id in an index keyed by
// (user id, row id).
func lastOfUser(index *tree[pair, struct{}], a int64) (int64, bool) {
	for k := range index.descend(pair{a, maxID}) {
		if k.a == a {
			return k.b, true
		}
		break
	}
	return 0, false
}

// belowLimit reports whether a result of n rows has room for another under
// limit. A negative limit means no limit.
func belowLimit(n, limit int) bool {
	return limit < 0 || n < limit
}

// containsFolded reports whether any of fields contains q after
// strings.ToLower of both. q must already be lowered.
func containsFolded(q string, fields ...string) bool {
	for _, f := range fields {
		if strings.Contains(strings.ToLower(f), q) {
			return true
		}
	}
	return false
}
