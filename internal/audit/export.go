package audit

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"
)

// Export writes the entries after seq after (0 for all) to w as JSON lines,
// oldest first, one entry a line:
//
//	{"seq":1,"at":"...","kind":"...","actor":"...","repo":"...","subject":"...","data":{...},"prev_hash":"...","hash":"..."}
//
// Every field is written exactly as stored, data as the JSON value itself,
// so that the chain can be checked again from the export alone. It streams
// and returns how many entries it wrote. It does not verify: a data column
// that is not JSON at all (which only tampering makes) stops it.
func Export(ctx context.Context, db *sql.DB, w io.Writer, after int64) (int64, error) {
	bw := bufio.NewWriterSize(w, 64<<10)
	var (
		n    int64
		line []byte
	)
	err := walk(ctx, db, after, func(r *row) error {
		if !json.Valid([]byte(r.data)) {
			return fmt.Errorf("export entry %d: its data is not JSON; the log was changed after it was written (run fivesafes audit verify)", r.seq)
		}
		line = append(line[:0], `{"seq":`...)
		line = strconv.AppendInt(line, r.seq, 10)
		for _, f := range [...]struct{ key, value string }{
			{`,"at":`, r.at}, {`,"kind":`, r.kind}, {`,"actor":`, r.actor}, {`,"repo":`, r.repo}, {`,"subject":`, r.subject},
		} {
			line = appendJSONString(append(line, f.key...), f.value)
		}
		line = append(append(line, `,"data":`...), r.data...)
		line = appendJSONString(append(line, `,"prev_hash":`...), r.prevHash)
		line = appendJSONString(append(line, `,"hash":`...), r.hash)
		line = append(line, "}\n"...)
		if _, err := bw.Write(line); err != nil {
			return fmt.Errorf("export entry %d: %w", r.seq, err)
		}
		n++
		return nil
	})
	if err != nil {
		return n, err
	}
	if err := bw.Flush(); err != nil {
		return n, fmt.Errorf("export: %w", err)
	}
	return n, nil
}

// appendJSONString appends s as a JSON string. Unlike encoding/json it
// leaves <, > and & alone, so that a string reads as stored; invalid UTF-8
// (which only tampering stores) becomes U+FFFD, as JSON requires.
func appendJSONString(b []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			b = append(b, c)
			i++
			continue
		}
		if c < utf8.RuneSelf {
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
