package outputs

// csvShape is what the gates need from a CSV.
type csvShape struct {
	// header is the first record that has fields.
	header []string
	// rows counts what job-runner counts: csv.DictReader's rows, i.e. the
	// records with fields after the first record (the field names).
	rows int
}

// Parser states of CPython's _csv module, excel dialect, strict off.
const (
	startRecord = iota
	startField
	inField
	inQuotedField
	quoteInQuotedField
	eatNewline
)

// scanCSV reads a CSV the way job-runner does: Python's csv module over a
// file opened in text mode, so "\r\n" and "\r" end lines like "\n"; blank
// lines are records without fields; a quoted field may span lines; a stray
// quote is kept as text. It works on bytes, so any encoding is read (where
// Python would fail on invalid UTF-8 and job-runner would then check
// nothing), and a field has no size limit.
func scanCSV(data []byte) csvShape {
	var (
		s       csvShape
		state   = startRecord
		records int
		nfields int
		inLine  bool // bytes seen since the last line end
		keep    = true
		field   []byte
		fields  []string
	)
	save := func() {
		if keep {
			fields = append(fields, string(field))
			field = field[:0]
		}
		nfields++
	}
	add := func(c byte) {
		if keep {
			field = append(field, c)
		}
	}
	// endLine is the reader's end of one line; a record ends when the
	// parser is back at the start of a record.
	endLine := func() {
		switch state {
		case startField, inField, quoteInQuotedField:
			save()
			state = startRecord
		case eatNewline:
			state = startRecord
		case inQuotedField:
			return // the field goes on over the next line
		}
		records++
		if records > 1 && nfields > 0 {
			s.rows++
		}
		if keep && nfields > 0 {
			s.header, keep, field = fields, false, nil
		}
		nfields, fields = 0, fields[:0:0]
	}
	for i := 0; i < len(data); i++ {
		c := data[i]
		if c == '\r' { // universal newlines
			if i+1 < len(data) && data[i+1] == '\n' {
				i++
			}
			c = '\n'
		}
		inLine = true
		switch state {
		case startRecord:
			if c == '\n' {
				state = eatNewline
				break
			}
			state = startField
			fallthrough
		case startField:
			switch c {
			case '\n':
				save()
				state = eatNewline
			case '"':
				state = inQuotedField
			case ',':
				save()
			default:
				add(c)
				state = inField
			}
		case inField:
			switch c {
			case '\n':
				save()
				state = eatNewline
			case ',':
				save()
				state = startField
			default:
				add(c)
			}
		case inQuotedField:
			if c == '"' {
				state = quoteInQuotedField
			} else {
				add(c)
			}
		case quoteInQuotedField:
			switch c {
			case '"': // a doubled quote
				add(c)
				state = inQuotedField
			case ',':
				save()
				state = startField
			case '\n':
				save()
				state = eatNewline
			default: // text after a closing quote is kept (strict off)
				add(c)
				state = inField
			}
		}
		if c == '\n' {
			endLine()
			inLine = false
		}
	}
	if inLine {
		endLine()
	}
	if state == inQuotedField { // end of file inside quotes: the record ends
		save()
		state = eatNewline
		endLine()
	}
	return s
}
