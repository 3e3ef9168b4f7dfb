// Package pyconv reproduces the few Python built-ins whose exact behaviour
// decides whether OpenSAFELY's reference library accepts a project.yaml:
// float() and int() on strings, repr() of a float, str.isspace() and the
// Unicode decimal digits both of them accept.
package pyconv

import (
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode"
)

// IsSpace reports whether Python's str.isspace() is true for r.
func IsSpace(r rune) bool {
	switch {
	case r == ' ' || (r >= '\t' && r <= '\r') || (r >= 0x1c && r <= 0x1f):
		return true
	case r < 0x80:
		return false
	case r == 0x85 || r == 0xa0 || r == 0x2028 || r == 0x2029:
		return true
	}
	return unicode.Is(unicode.Zs, r)
}

// DecimalValue returns the value of a Unicode decimal digit (category Nd),
// as Python's unicodedata.decimal does, or -1.
func DecimalValue(r rune) int {
	if r >= '0' && r <= '9' {
		return int(r - '0')
	}
	if r < 0x80 || !unicode.IsDigit(r) {
		return -1
	}
	// Unicode guarantees decimal digits come in contiguous runs of ten
	// starting at zero, so the offset into the table's range gives the value.
	for _, rg := range unicode.Nd.R16 {
		if r >= rune(rg.Lo) && r <= rune(rg.Hi) {
			return int(r-rune(rg.Lo)) % 10
		}
	}
	for _, rg := range unicode.Nd.R32 {
		if r >= rune(rg.Lo) && r <= rune(rg.Hi) {
			return int(r-rune(rg.Lo)) % 10
		}
	}
	return -1
}

// toASCII applies CPython's _PyUnicode_TransformDecimalAndSpaceToASCII and
// strips surrounding ASCII whitespace, as float() and int() do before parsing.
func toASCII(s string) (string, bool) {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if !ascii {
		var b strings.Builder
		for _, r := range s {
			switch {
			case r < 0x80:
				b.WriteByte(byte(r))
			case IsSpace(r):
				b.WriteByte(' ')
			case DecimalValue(r) >= 0:
				b.WriteByte(byte('0' + DecimalValue(r)))
			default:
				return "", false
			}
		}
		s = b.String()
	}
	return strings.TrimFunc(s, func(r rune) bool {
		return r == ' ' || (r >= '\t' && r <= '\r')
	}), true
}

// removeUnderscores drops underscores that sit between two digits and fails
// on any other underscore (CPython's _Py_string_to_number_with_underscores).
func removeUnderscores(s string) (string, bool) {
	if strings.IndexByte(s, '_') < 0 {
		return s, true
	}
	b := make([]byte, 0, len(s))
	var prev byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '_' {
			if !isDigit(prev) {
				return "", false
			}
		} else {
			if prev == '_' && !isDigit(c) {
				return "", false
			}
			b = append(b, c)
		}
		prev = c
	}
	if prev == '_' {
		return "", false
	}
	return string(b), true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// Float is Python's float(s) for a str argument.
func Float(s string) (float64, bool) {
	s, ok := toASCII(s)
	if !ok {
		return 0, false
	}
	if s, ok = removeUnderscores(s); !ok {
		return 0, false
	}
	body := s
	neg := false
	if body != "" && (body[0] == '+' || body[0] == '-') {
		neg = body[0] == '-'
		body = body[1:]
	}
	switch strings.ToLower(body) {
	case "inf", "infinity":
		if neg {
			return math.Inf(-1), true
		}
		return math.Inf(1), true
	case "nan":
		return math.NaN(), true
	}
	if !isDecimalFloat(body) {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !isRangeErr(err) {
		return 0, false
	}
	return f, true
}

func isRangeErr(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// isDecimalFloat matches digits [. digits] | . digits, then [e [sign] digits].
func isDecimalFloat(s string) bool {
	i, n := 0, len(s)
	intDigits := 0
	for i < n && isDigit(s[i]) {
		i++
		intDigits++
	}
	fracDigits := 0
	if i < n && s[i] == '.' {
		i++
		for i < n && isDigit(s[i]) {
			i++
			fracDigits++
		}
	}
	if intDigits+fracDigits == 0 {
		return false
	}
	if i < n && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < n && (s[i] == '+' || s[i] == '-') {
			i++
		}
		expDigits := 0
		for i < n && isDigit(s[i]) {
			i++
			expDigits++
		}
		if expDigits == 0 {
			return false
		}
	}
	return i == n
}

// Int is Python's int(s) (base 10) for a str argument.
func Int(s string) (*big.Int, bool) {
	s, ok := toASCII(s)
	if !ok {
		return nil, false
	}
	body := s
	if body != "" && (body[0] == '+' || body[0] == '-') {
		body = body[1:]
	}
	if body == "" || !isDigit(body[0]) {
		return nil, false
	}
	if s, ok = removeUnderscores(s); !ok {
		return nil, false
	}
	for i := 0; i < len(body); i++ {
		if !isDigit(body[i]) && body[i] != '_' {
			return nil, false
		}
	}
	v, ok := new(big.Int).SetString(s, 10)
	return v, ok
}

// FloatRepr is Python's repr() of a float: the shortest string that reads
// back to f, in fixed notation for exponents -4..15 and with ".0" for
// integral values (3.0, 1e+16, 1e-05, nan, inf).
func FloatRepr(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64) // -d.ddde±XX
	sign := ""
	if e[0] == '-' {
		sign, e = "-", e[1:]
	}
	mant, expStr, _ := strings.Cut(e, "e")
	digits := strings.Replace(mant, ".", "", 1)
	exp, _ := strconv.Atoi(expStr)
	decpt := exp + 1
	if decpt <= -4 || decpt > 16 {
		out := sign + digits[:1]
		if len(digits) > 1 {
			out += "." + digits[1:]
		}
		es := "+"
		if exp < 0 {
			es, exp = "-", -exp
		}
		x := strconv.Itoa(exp)
		if len(x) < 2 {
			x = "0" + x
		}
		return out + "e" + es + x
	}
	switch {
	case decpt <= 0:
		return sign + "0." + strings.Repeat("0", -decpt) + digits
	case decpt >= len(digits):
		return sign + digits + strings.Repeat("0", decpt-len(digits)) + ".0"
	default:
		return sign + digits[:decpt] + "." + digits[decpt:]
	}
}

// IntToFloat is Python's float(int): correctly rounded, failing (OverflowError)
// when the value is too large for a float.
func IntToFloat(v *big.Int) (float64, bool) {
	f, _ := new(big.Float).SetInt(v).Float64()
	if math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}
