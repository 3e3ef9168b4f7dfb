package disclosure

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// The CSV is read as job-runner reads it for the level-4 gates (Python's
// csv module, excel dialect, strict off, over a file opened in text mode):
// "\r\n" and "\r" end lines like "\n"; a blank line is no record; a quoted
// field may hold commas, quotes ("") and line ends; a stray quote is text;
// a quote left open at the end of the file ends the last record. It works
// on bytes, so a file in any encoding, or none, is read; a UTF-8 byte-order
// mark at the start is dropped. Rows may be ragged.
//
// The first record is the header. Only bounded state is kept: the first
// maxField bytes of the field being read, the names of the first
// maxNamedColumns columns, and tallies of the first maxTalliedColumns
// columns; the rest is counted, not kept.

const (
	// maxField is how much of a field is kept: plenty for a count or a
	// column name, whose longer tail is not shown anyway.
	maxField = 256
	// maxNamedColumns is how many header names are kept.
	maxNamedColumns = 2048
	// maxTalliedColumns is how many columns have their own tallies; cells
	// further right are tallied together.
	maxTalliedColumns = 2048
	// chunkSize is how much of the file is read at a time.
	chunkSize = 64 << 10
)

// Parser states, CPython's _csv module's.
const (
	startRecord = iota
	startField
	inField
	inQuotedField
	quoteInQuotedField
)

// table is a CSV being read and what the checks found in it so far.
type table struct {
	lim Limits

	// the parser
	state   int
	skipLF  bool   // the last byte was '\r': a '\n' now is the same line end
	field   []byte // the field's first maxField bytes, leading blanks dropped
	cut     bool   // bytes other than blanks were dropped from the field
	col     int    // the field's column
	records int    // complete records, the header included

	// the header
	width   int      // the header's number of columns
	columns []column // the first maxNamedColumns of them
	names   map[string]int
	patient tally // patient_id columns, by column number

	// the counts
	small, unrounded checkTally
}

// column is one named column of the header.
type column struct {
	name     string // cleaned and shortened, for findings
	counts   bool   // its integer cells are checked as counts
	repeated bool   // another column has the same shown name
}

// tally counts the places a check found something: cells, or columns,
// naming the first few.
type tally struct {
	n     int
	first [maxListed]int
}

// maxListed is how many row (or column) numbers a finding names.
const maxListed = 3

func (t *tally) add(at int) {
	if t.n < maxListed {
		t.first[t.n] = at
	}
	t.n++
}

// checkTally is one count check's tallies: per column (rows), and for the
// columns past maxTalliedColumns together (cells).
type checkTally struct {
	cols []tally
	rest tally
}

func (c *checkTally) add(col, row int) {
	if col >= maxTalliedColumns {
		c.rest.add(row)
		return
	}
	if col >= len(c.cols) {
		c.cols = append(c.cols, make([]tally, col+1-len(c.cols))...)
	}
	c.cols[col].add(row)
}

func newTable(lim Limits) *table {
	lim.SmallCount = max(lim.SmallCount, 0)
	return &table{lim: lim, field: make([]byte, 0, maxField), names: map[string]int{}}
}

var bom = []byte("\ufeff")

// read parses all of r.
func (t *table) read(r io.Reader) error {
	br := bufio.NewReaderSize(r, 64)
	head, err := br.Peek(len(bom))
	if bytes.Equal(head, bom) {
		_, _ = br.Discard(len(bom))
	}
	if err != nil && !errors.Is(err, io.EOF) {
		t.feed(head)
		t.end()
		return err
	}
	buf := make([]byte, chunkSize)
	for {
		n, err := br.Read(buf)
		t.feed(buf[:n])
		if errors.Is(err, io.EOF) {
			t.end()
			return nil
		}
		if err != nil {
			t.end()
			return err
		}
	}
}

// feed parses the next bytes of the file.
func (t *table) feed(data []byte) {
	for i := 0; i < len(data); i++ {
		c := data[i]
		if t.skipLF {
			t.skipLF = false
			if c == '\n' {
				continue
			}
		}
		if c == '\r' {
			c, t.skipLF = '\n', true
		}
		switch t.state {
		case startRecord:
			if c == '\n' {
				continue // a blank line
			}
			t.state = startField
			fallthrough
		case startField:
			switch c {
			case '\n':
				t.endField()
				t.endRecord()
			case '"':
				t.state = inQuotedField
			case ',':
				t.endField()
			default:
				t.add(c)
				t.state = inField
			}
		case inField:
			switch c {
			case '\n':
				t.endField()
				t.endRecord()
			case ',':
				t.endField()
				t.state = startField
			default: // the field's text up to its end, at once
				j := i + 1
				for j < len(data) && data[j] != ',' && data[j] != '\n' && data[j] != '\r' {
					j++
				}
				t.addRun(data[i:j])
				i = j - 1
			}
		case inQuotedField:
			if c == '"' {
				t.state = quoteInQuotedField
				break
			}
			j := i + 1
			for j < len(data) && data[j] != '"' && data[j] != '\r' {
				j++
			}
			t.addRun(data[i:j])
			i = j - 1
		case quoteInQuotedField:
			switch c {
			case '"': // a doubled quote
				t.add(c)
				t.state = inQuotedField
			case ',':
				t.endField()
				t.state = startField
			case '\n':
				t.endField()
				t.endRecord()
			default: // text after a closing quote is kept
				t.add(c)
				t.state = inField
			}
		}
	}
}

// end ends the last record at the end of the file, even inside quotes.
func (t *table) end() {
	if t.state != startRecord {
		t.endField()
		t.endRecord()
	}
}

func (t *table) add(c byte) {
	switch {
	case len(t.field) < maxField:
		if len(t.field) > 0 || !isBlank(c) {
			t.field = append(t.field, c)
		}
	case !isBlank(c):
		t.cut = true
	}
}

// addRun adds bytes none of which is '\r' (a line end to normalise).
func (t *table) addRun(b []byte) {
	if len(t.field) == 0 {
		for len(b) > 0 && isBlank(b[0]) {
			b = b[1:]
		}
	}
	n := min(len(b), maxField-len(t.field))
	t.field = append(t.field, b[:n]...)
	if !t.cut && len(trimBlanks(b[n:])) > 0 {
		t.cut = true
	}
}

func (t *table) endField() {
	if t.records == 0 {
		t.headerField()
	} else {
		t.dataField()
	}
	t.col++
	t.field, t.cut = t.field[:0], false
}

func (t *table) endRecord() {
	if t.records == 0 {
		t.width = t.col
	}
	t.records++
	t.col = 0
	t.state = startRecord
}

func (t *table) headerField() {
	if !t.cut && isPatientID(t.field) {
		t.patient.add(t.col + 1)
	}
	if t.col >= maxNamedColumns {
		return
	}
	name := string(t.field)
	c := column{name: shorten(clean(name), maxNameRunes), counts: t.cut || isCountColumn(name)}
	if c.name != "" {
		if i, ok := t.names[c.name]; ok {
			c.repeated = true
			t.columns[i].repeated = true
		} else {
			t.names[c.name] = t.col
		}
	}
	t.columns = append(t.columns, c)
}

func (t *table) dataField() {
	if len(t.field) == 0 || t.cut || t.col < len(t.columns) && !t.columns[t.col].counts {
		return
	}
	if c := t.field[0]; (c < '0' || c > '9') && c != '+' {
		return // the common case of text, at once
	}
	n := readCount(t.field, t.lim.SmallCount, t.lim.Rounding)
	if !n.ok || n.zero {
		return
	}
	row := t.records // data rows are numbered from 1, after the header
	if n.small {
		t.small.add(t.col, row)
	}
	if n.unrounded {
		t.unrounded.add(t.col, row)
	}
}

// rows is the number of data rows: the records after the header.
func (t *table) rows() int { return max(t.records-1, 0) }
