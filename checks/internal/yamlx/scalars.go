package yamlx

import (
	"math/big"
	"strings"

	"github.com/fivesafes/fivesafes/checks/internal/pyconv"
	"go.yaml.in/yaml/v3"
)

// scalar types a scalar and rejects values ruamel's constructor fails on.
func (c *converter) scalar(y *yaml.Node) (*Node, error) {
	n := &Node{Kind: Scalar, Value: y.Value, Line: y.Line, Column: y.Column}
	switch {
	case y.Style&yaml.TaggedStyle != 0 && y.Tag != "!":
		n.Tag = y.Tag
		if err := checkTagged(n); err != nil {
			return nil, err
		}
		return n, nil
	case y.Style&(yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) != 0:
		n.Tag = TagStr
		return n, nil
	}
	n.Tag = c.resolve(y.Value)
	if c.v11 {
		canonical11(n)
	}
	if !plainConstructible(n.Tag, n.Value) {
		return nil, notConstructible(n)
	}
	return n, nil
}

// plainConstructible is checkConstructible for a plain scalar the resolver
// typed, whose form the resolver's pattern already guarantees: an int or a
// float needs a digit (ruamel drops underscores first, so "+_" and "._"
// are left with none), a date must exist.
func plainConstructible(tag, value string) bool {
	switch tag {
	case TagInt:
		s := strings.ReplaceAll(value, "_", "")
		s = strings.TrimLeft(s, "+-")
		if len(s) >= 2 && s[0] == '0' && (s[1] == 'b' || s[1] == 'o' || s[1] == 'x') {
			s = s[2:]
		}
		return s != ""
	case TagFloat:
		for i := 0; i < len(value) && value[i] != 'e' && value[i] != 'E'; i++ {
			if isDigitByte(value[i]) || value[i] == 'i' || value[i] == 'I' || value[i] == 'n' || value[i] == 'N' {
				return true
			}
		}
		return false
	case TagTimestamp:
		return validDate(parseTimestamp(value))
	}
	return true
}

// checkTagged checks an explicitly tagged scalar against its tag.
func checkTagged(n *Node) error {
	switch n.Tag {
	case "!!map", "!!seq":
		return errorf(ErrValue, n.Line, n.Column, "tag %s cannot be applied to a scalar", n.Tag)
	case TagNull:
		return nil
	}
	return checkConstructible(n)
}

// checkConstructible fails for the values of a core type that ruamel's
// constructor crashes on: "_" as an int, "._" as a float, 2021-02-30.
func checkConstructible(n *Node) error {
	ok := true
	switch n.Tag {
	case TagInt:
		_, ok = IntValue(n.Value)
	case TagFloat:
		_, ok = FloatValue(n.Value)
	case TagBool:
		_, ok = BoolValue(n.Value)
	case TagTimestamp:
		ok = validDate(parseTimestamp(n.Value))
	default:
		return nil
	}
	if !ok {
		return notConstructible(n)
	}
	return nil
}

func notConstructible(n *Node) *Error {
	return errorf(ErrValue, n.Line, n.Column, "%q cannot be read as %s; put it in quotes if it is text", n.Value, typeName(n.Tag))
}

func typeName(tag string) string {
	switch tag {
	case TagInt:
		return "an integer"
	case TagFloat:
		return "a number"
	case TagBool:
		return "a boolean"
	case TagTimestamp:
		return "a date"
	}
	return tag
}

func validDate(t timestamp) bool {
	if !t.ok || t.year < 1 || t.month < 1 || t.month > 12 || t.day < 1 {
		return false
	}
	days := [13]int{0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[t.month]
	if t.month == 2 && t.year%4 == 0 && (t.year%100 != 0 || t.year%400 == 0) {
		days = 29
	}
	if t.day > days {
		return false
	}
	return !t.hasTime || (t.hour <= 23 && t.minute <= 59 && t.second <= 59)
}

// canonical11 rewrites the value of a YAML 1.1 number or boolean to the
// YAML 1.2 spelling of the same value, so that the rest of the code needs
// to know only one set of rules.
func canonical11(n *Node) {
	switch n.Tag {
	case TagBool:
		if b, ok := BoolValue(n.Value); ok {
			n.Value = map[bool]string{true: "true", false: "false"}[b]
		}
	case TagInt:
		if v, ok := int11(n.Value); ok {
			n.Value = v.String()
		}
	case TagFloat:
		if strings.Contains(n.Value, ":") {
			if f, ok := sexagesimalFloat(n.Value); ok {
				n.Value = pyconv.FloatRepr(f)
			}
		}
	}
}

func int11(value string) (*big.Int, bool) {
	s := strings.ReplaceAll(value, "_", "")
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg, s = s[0] == '-', s[1:]
	}
	var v *big.Int
	ok := false
	switch {
	case s == "":
	case strings.HasPrefix(s, "0b"), strings.HasPrefix(s, "0x"):
		return IntValue(value)
	case strings.Contains(s, ":"):
		v, ok = new(big.Int), true
		for _, part := range strings.Split(s, ":") {
			d, good := new(big.Int).SetString(part, 10)
			if !good {
				return nil, false
			}
			v.Mul(v, big.NewInt(60)).Add(v, d)
		}
	case s[0] == '0':
		v, ok = new(big.Int).SetString(s, 8)
	default:
		v, ok = new(big.Int).SetString(s, 10)
	}
	if !ok {
		return nil, false
	}
	if neg {
		v.Neg(v)
	}
	return v, true
}

func sexagesimalFloat(value string) (float64, bool) {
	s := strings.ReplaceAll(value, "_", "")
	sign := 1.0
	if s != "" && (s[0] == '-' || s[0] == '+') {
		if s[0] == '-' {
			sign = -1
		}
		s = s[1:]
	}
	total := 0.0
	for _, part := range strings.Split(s, ":") {
		f, ok := pyconv.Float(part)
		if !ok {
			return 0, false
		}
		total = total*60 + f
	}
	return sign * total, true
}
