package commands

import (
	"sort"
	"strings"
	"unicode/utf8"
)

// maxSuggestions is how many "did you mean" candidates a reply offers.
const maxSuggestions = 3

// maxSuggestRunes bounds the words Suggest compares, so that a hostile
// word costs nothing.
const maxSuggestRunes = 64

// Suggest returns the candidates that word was probably meant to be, best
// first, at most three; nil when none is close. Case is ignored. A
// candidate is close when
//   - it is a few edits away (insertions, deletions, substitutions and
//     swaps of neighbours: "rnu" -> "run", "generate_datset" ->
//     "generate_dataset"), or
//   - it starts with word, or with something a few edits from it
//     ("forse" -> "force-run-dependencies"), or
//   - it contains word, when word has four letters or more ("dataset" ->
//     "generate_dataset").
//
// A few edits is none for one letter, one for words of up to five letters, two up to eight and
// three beyond.
func Suggest(word string, candidates []string) []string {
	w := []rune(strings.ToLower(word))
	if len(w) == 0 || len(w) > maxSuggestRunes {
		return nil
	}
	limit := editLimit(len(w))
	type scored struct {
		cand  string
		score int
		order int
	}
	var found []scored
	seen := map[string]bool{}
	for i, c := range candidates {
		if seen[c] || c == "" {
			continue
		}
		seen[c] = true
		lc := strings.ToLower(c)
		n := utf8.RuneCountInString(lc)
		// The best of the three ways to be close; lower is better.
		score := -1
		better := func(s int) {
			if score < 0 || s < score {
				score = s
			}
		}
		if n-len(w) <= limit && len(w)-n <= limit {
			if d := editDistance(w, []rune(lc), limit); d <= limit {
				better(2 * d)
			}
		}
		if n > len(w) {
			switch d := editDistance(w, []rune(lc)[:len(w)], limit); {
			case d == 0:
				better(1)
			case len(w) >= 3 && d <= limit:
				better(2*d + 1)
			}
		}
		if len(w) >= 4 && strings.Contains(lc, string(w)) {
			better(2*limit + 2)
		}
		if score >= 0 {
			found = append(found, scored{c, score, i})
		}
	}
	sort.SliceStable(found, func(i, j int) bool { return found[i].score < found[j].score })
	var out []string
	for _, f := range found {
		if len(out) == maxSuggestions {
			break
		}
		out = append(out, f.cand)
	}
	return out
}

func editLimit(n int) int {
	switch {
	case n == 1:
		return 0 // any letter is one edit from any other
	case n <= 5:
		return 1
	case n <= 8:
		return 2
	}
	return 3
}

// editDistance is the optimal string alignment distance between a and b
// (Damerau-Levenshtein where no part is edited twice), or limit+1 when it
// is more than limit.
func editDistance(a, b []rune, limit int) int {
	if abs(len(a)-len(b)) > limit {
		return limit + 1
	}
	// Three rows: the one before the previous is needed for swaps.
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d = min(d, prev2[j-2]+1)
			}
			cur[j] = d
			rowMin = min(rowMin, d)
		}
		if rowMin > limit {
			return limit + 1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return min(prev[len(b)], limit+1)
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
