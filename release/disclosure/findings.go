package disclosure

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/fivesafes/fivesafes/runner/protocol"
)

// maxColumnFindings is how many columns get a finding of their own for one
// check; further columns share one, so that a wide table of counts makes a
// manifest an output checker can still read (and the bot accepts: at most
// 100 findings a file).
const maxColumnFindings = 20

// findings turns what was read into findings, summarised: one per check,
// and for the count checks one per column.
func (t *table) findings() []protocol.Finding {
	var out []protocol.Finding
	if t.lim.MaxRows > 0 && t.rows() > t.lim.MaxRows {
		out = append(out, protocol.Finding{Check: protocol.CheckTooManyRows,
			Message: fmt.Sprintf("%d data rows, more than %d", t.rows(), t.lim.MaxRows)})
	}
	if p := t.patient; p.n > 0 {
		what := "a patient_id column (column %s)"
		if p.n > 1 {
			what = strconv.Itoa(p.n) + " patient_id columns (columns %s)"
		}
		out = append(out, protocol.Finding{Check: protocol.CheckPatientIDColumn,
			Message: fmt.Sprintf(what+": the file may hold patient-level data", listed(p))})
	}
	out = t.countFindings(out, protocol.CheckSmallCount, &t.small, func(n int) string {
		if t.lim.SmallCount == 1 {
			return plural(n, "count") + " of 1"
		}
		return fmt.Sprintf("%s of 1 to %d", plural(n, "count"), t.lim.SmallCount)
	})
	out = t.countFindings(out, protocol.CheckUnroundedCount, &t.unrounded, func(n int) string {
		return fmt.Sprintf("%s not a multiple of %d", plural(n, "count"), t.lim.Rounding)
	})
	return out
}

// countFindings adds one finding per column of a count check, up to
// maxColumnFindings, and one for the columns after those.
func (t *table) countFindings(out []protocol.Finding, check string, c *checkTally, counts func(n int) string) []protocol.Finding {
	var shown, restCols, restCells int
	for col, tl := range c.cols {
		switch {
		case tl.n == 0:
		case shown < maxColumnFindings:
			shown++
			rows := "rows"
			if tl.n == 1 {
				rows = "row"
			}
			out = append(out, protocol.Finding{Check: check,
				Message: fmt.Sprintf("%s: %s (%s %s)", t.columnName(col), counts(tl.n), rows, listed(tl))})
		default:
			restCols++
			restCells += tl.n
		}
	}
	if c.rest.n > 0 {
		restCols++ // at least one more column, past those tallied one by one
		restCells += c.rest.n
	}
	if restCols > 0 {
		cols := plural(restCols, "more column")
		if c.rest.n > 0 {
			cols = "at least " + cols
		}
		out = append(out, protocol.Finding{Check: check, Message: fmt.Sprintf("%s: %s", cols, counts(restCells))})
	}
	return out
}

// columnName is how a finding names a column (numbered from 1): by its
// header name, with its number when the name is not enough.
func (t *table) columnName(col int) string {
	num := col + 1
	switch {
	case col >= t.width:
		return fmt.Sprintf("column %d (no header)", num)
	case col >= len(t.columns) || t.columns[col].name == "":
		return fmt.Sprintf("column %d", num)
	case t.columns[col].repeated:
		return fmt.Sprintf("column %d %s", num, strconv.Quote(t.columns[col].name))
	}
	return "column " + strconv.Quote(t.columns[col].name)
}

// listed names a tally's first places: "2, 5, 9", "2, 5, 9 and 4 more".
func listed(tl tally) string {
	var b strings.Builder
	for i := range min(tl.n, maxListed) {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Itoa(tl.first[i]))
	}
	if tl.n > maxListed {
		fmt.Fprintf(&b, " and %d more", tl.n-maxListed)
	}
	return b.String()
}

// plural is "1 count", "3 counts".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}
