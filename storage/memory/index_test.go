package memory

import (
	"fmt"
	"slices"
	"testing"

	"github.com/sharepanel/sharepanel/domain"
)

// TestPageUserMatchesSlice compares pageUser and scanUser on an index of
// three users with the same pages cut from plain slices.
func TestPageUserMatchesSlice(t *testing.T) {
	index := newTree[pair, struct{}](comparePair)
	rowsOf := map[int64][]int64{}
	for id := int64(1); id <= 60; id++ {
		user := id%3 + 1 // users 1, 2 and 3; user 4 has no rows
		index.set(pair{user, id}, struct{}{})
		rowsOf[user] = append(rowsOf[user], id)
	}

	pages := []domain.Page{
		{Limit: 5, Offset: 0},
		{Limit: 5, Offset: 17},
		{Limit: 5, Offset: 20},
		{Limit: 50, Offset: 3},
		{Limit: 0, Offset: 0},
		{Limit: -1, Offset: 2},
		{Limit: 3, Offset: -4},
	}
	for user := int64(1); user <= 4; user++ {
		newestFirst := slices.Clone(rowsOf[user])
		slices.Reverse(newestFirst)
		for _, p := range pages {
			t.Run(fmt.Sprintf("user %d limit %d offset %d", user, p.Limit, p.Offset), func(t *testing.T) {
				ids, total := pageUser(&index, user, p)
				if total != len(newestFirst) {
					t.Errorf("total = %d, want %d", total, len(newestFirst))
				}
				want := page(newestFirst, p)
				if !slices.Equal(ids, want) && len(ids)+len(want) > 0 {
					t.Errorf("ids = %v, want %v", ids, want)
				}
			})
		}

		if got, want := countUser(&index, user), len(rowsOf[user]); got != want {
			t.Errorf("countUser(%d) = %d, want %d", user, got, want)
		}
		for _, after := range []int64{minID, 0, 10, 59, 60, maxID} {
			i, _ := slices.BinarySearch(rowsOf[user], after+1)
			if after == maxID {
				i = len(rowsOf[user])
			}
			want := rowsOf[user][i:]
			if got := scanUser(&index, user, after, -1); !slices.Equal(got, want) {
				t.Errorf("scanUser(%d, %d, -1) = %v, want %v", user, after, got, want)
			}
			if got := scanUser(&index, user, after, 2); !slices.Equal(got, want[:min(2, len(want))]) {
				t.Errorf("scanUser(%d, %d, 2) = %v, want %v", user, after, got, want[:min(2, len(want))])
			}
		}
	}
}
