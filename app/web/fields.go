package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// field is one key and value of an entry's data, as text.
type field struct {
	Key   string
	Value string
}

const (
	maxFields     = 30
	maxFieldValue = 300
)

// fields is an entry's data, a JSON object, as keys and values of text in
// the object's order, each value cut to a readable length. Data that is
// not an object is one field named "data". The templates escape it all.
func fields(raw json.RawMessage) []field {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" || string(raw) == "{}" {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return []field{{Key: "data", Value: cut(string(raw))}}
	}
	var out []field
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return []field{{Key: "data", Value: cut(string(raw))}}
		}
		key, _ := t.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return []field{{Key: "data", Value: cut(string(raw))}}
		}
		if len(out) == maxFields {
			out = append(out, field{Key: "…", Value: "more fields in the JSON API"})
			break
		}
		out = append(out, field{Key: key, Value: cut(value(v))})
	}
	return out
}

// value is a JSON value as text: a string as itself, a list of strings
// and numbers joined with commas, anything else as compact JSON.
func value(v json.RawMessage) string {
	if string(v) == "null" {
		return "null"
	}
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s
	}
	var list []any
	dec := json.NewDecoder(bytes.NewReader(v))
	dec.UseNumber()
	if dec.Decode(&list) == nil {
		parts := make([]string, 0, len(list))
		for _, e := range list {
			switch e := e.(type) {
			case string:
				parts = append(parts, e)
			case json.Number, bool:
				parts = append(parts, fmt.Sprint(e))
			default:
				return compact(v)
			}
		}
		if len(parts) == 0 {
			return "none"
		}
		return strings.Join(parts, ", ")
	}
	return compact(v)
}

func compact(v json.RawMessage) string {
	var b bytes.Buffer
	if json.Compact(&b, v) != nil {
		return string(v)
	}
	return b.String()
}

// cut shortens s to maxFieldValue characters.
func cut(s string) string {
	if utf8.RuneCountInString(s) <= maxFieldValue {
		return s
	}
	return string([]rune(s)[:maxFieldValue]) + "…"
}
