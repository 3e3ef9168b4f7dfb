package yamlx

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/fivesafes/fivesafes/checks/internal/pyconv"
)

// The functions here give a node the meaning it has for the reference
// library, which sees the Python objects ruamel constructs: int, float,
// bool, None, str, datetime.date, or a tagged object.

// IsString reports whether n loads as a Python str.
func (n *Node) IsString() bool { return n != nil && n.Kind == Scalar && n.Tag == TagStr }

// IsNull reports whether n is absent or loads as None.
func (n *Node) IsNull() bool { return n == nil || (n.Kind == Scalar && n.Tag == TagNull) }

// IntValue is the int ruamel constructs for an !!int node (YAML 1.2 rules:
// underscores dropped, 0b/0o/0x prefixes, otherwise Python's int()).
func IntValue(value string) (*big.Int, bool) {
	s := strings.ReplaceAll(value, "_", "")
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	var v *big.Int
	ok := false
	if len(s) >= 2 && s[0] == '0' && (s[1] == 'b' || s[1] == 'o' || s[1] == 'x') {
		base := 16
		switch s[1] {
		case 'b':
			base = 2
		case 'o':
			base = 8
		}
		digits := s[2:]
		if digits != "" && digits[0] != '+' && digits[0] != '-' {
			v, ok = new(big.Int).SetString(digits, base)
		}
	} else if s != "" {
		v, ok = pyconv.Int(s)
	}
	if !ok {
		return nil, false
	}
	if neg {
		v.Neg(v)
	}
	return v, true
}

// FloatValue is the float ruamel constructs for a !!float node.
func FloatValue(value string) (float64, bool) {
	s := strings.ToLower(strings.ReplaceAll(value, "_", ""))
	sign := 1.0
	if s != "" && (s[0] == '-' || s[0] == '+') {
		if s[0] == '-' {
			sign = -1
		}
		s = s[1:]
	}
	switch s {
	case ".inf":
		return sign * math.Inf(1), true
	case ".nan":
		return math.NaN(), true
	}
	f, ok := pyconv.Float(s)
	if !ok {
		return 0, false
	}
	return sign * f, true
}

// BoolValue is the bool ruamel constructs for a !!bool node.
func BoolValue(value string) (v, ok bool) {
	switch strings.ToLower(value) {
	case "true", "yes", "y", "on":
		return true, true
	case "false", "no", "n", "off":
		return false, true
	}
	return false, false
}

// Str is Python's str() of the value n loads as: the text of a string,
// 2017 for an int, 3.0 for a float, True, None, 2021-01-01 for a date.
// Reference messages print names this way.
func Str(n *Node) string {
	if n == nil {
		return "None"
	}
	switch n.Kind {
	case Mapping, Sequence:
		return flowText(n)
	}
	switch n.Tag {
	case TagInt:
		if v, ok := IntValue(n.Value); ok {
			return v.String()
		}
	case TagFloat:
		if f, ok := FloatValue(n.Value); ok {
			return pyconv.FloatRepr(f)
		}
	case TagBool:
		if b, ok := BoolValue(n.Value); ok {
			if b {
				return "True"
			}
			return "False"
		}
	case TagNull:
		return "None"
	case TagTimestamp:
		if t := parseTimestamp(n.Value); t.ok {
			if !t.hasTime {
				return fmt.Sprintf("%04d-%02d-%02d", t.year, t.month, t.day)
			}
			s := fmt.Sprintf("%04d-%02d-%02d %02d:%02d:%02d", t.year, t.month, t.day, t.hour, t.minute, t.second)
			if t.fraction != "" {
				s += "." + (t.fraction + "000000")[:6]
			}
			return s
		}
	}
	return n.Value
}

// flowText renders a collection used as a key, for messages.
func flowText(n *Node) string {
	var b strings.Builder
	open, close := "[", "]"
	if n.Kind == Mapping {
		open, close = "{", "}"
	}
	b.WriteString(open)
	for i, c := range n.Content {
		switch {
		case i == 0:
		case n.Kind == Mapping && i%2 == 1:
			b.WriteString(": ")
		default:
			b.WriteString(", ")
		}
		b.WriteString(Str(c))
	}
	b.WriteString(close)
	return b.String()
}

// keyID identifies the value of a mapping key the way Python's dict does:
// "a" and 'a' are the same key, so are 1, 1.0, 0x1 and true; a tagged
// object is equal only to itself (comparable == false). Strings, the common
// case, are compared without building anything.
type keyID struct {
	kind byte // 's' string, 'n' integral number, 'f' other float, 'z' None, 'd' date, 't' datetime, 'c' collection
	text string
}

func keyOf(n *Node) (id keyID, comparable bool) {
	if n.Kind != Scalar {
		var b strings.Builder
		if !writeCollectionKey(&b, n) {
			return keyID{}, false
		}
		return keyID{'c', b.String()}, true
	}
	switch n.Tag {
	case TagStr, TagValue:
		return keyID{'s', n.Value}, true
	case TagNull:
		return keyID{'z', ""}, true
	case TagBool:
		if b, ok := BoolValue(n.Value); ok {
			if b {
				return keyID{'n', "1"}, true
			}
			return keyID{'n', "0"}, true
		}
	case TagInt:
		if v, ok := IntValue(n.Value); ok {
			return keyID{'n', v.String()}, true
		}
	case TagFloat:
		if f, ok := FloatValue(n.Value); ok {
			return floatKey(f), true
		}
	case TagTimestamp:
		if t := parseTimestamp(n.Value); t.ok {
			if !t.hasTime {
				return keyID{'d', fmt.Sprintf("%04d-%02d-%02d", t.year, t.month, t.day)}, true
			}
			return keyID{'t', Str(n) + t.tz}, true
		}
	}
	return keyID{}, false
}

// floatKey puts an integral float in the same class as the equal int.
func floatKey(f float64) keyID {
	switch {
	case math.IsNaN(f):
		return keyID{'f', "nan"} // ruamel returns one shared NaN object for .nan
	case math.IsInf(f, 0):
		return keyID{'f', strconv.FormatFloat(f, 'g', -1, 64)}
	case f == math.Trunc(f):
		v, _ := new(big.Float).SetFloat64(f).Int(nil)
		return keyID{'n', v.String()}
	}
	return keyID{'f', strconv.FormatFloat(f, 'g', -1, 64)}
}

func writeCollectionKey(b *strings.Builder, n *Node) bool {
	if n.Kind == Mapping {
		b.WriteByte('{')
	} else {
		b.WriteByte('[')
	}
	for _, c := range n.Content {
		id, ok := keyOf(c)
		if !ok {
			return false
		}
		b.WriteByte(id.kind)
		b.WriteString(strconv.Quote(id.text))
		b.WriteByte(',')
	}
	b.WriteByte('}')
	return true
}
