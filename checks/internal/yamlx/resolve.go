package yamlx

// Tags of plain scalars that ruamel resolves but the reference library has
// no constructor for: they load as tagged objects, never as strings.
const (
	TagMerge = "!!merge" // "<<": a merge key; as a value it is not a string
	TagValue = "!!value" // "=": the YAML 1.1 "value" key type
)

// ResolvePlain returns the tag that ruamel's YAML 1.2 resolver gives a plain
// (unquoted, untagged) scalar: TagNull, TagBool, TagInt, TagFloat,
// TagTimestamp, TagMerge, TagValue or TagStr.
//
// It transcribes ruamel's implicit resolvers (resolver.py) and their order:
// for a value starting with a digit, float is tried before int and int
// before timestamp. Only "true"/"True"/"TRUE" (and likewise false, null) are
// special; "yes", "on", "tRUE" are strings.
func ResolvePlain(value string) string {
	if value == "" {
		return TagNull
	}
	switch value[0] {
	case 't', 'T', 'f', 'F':
		switch value {
		case "true", "True", "TRUE", "false", "False", "FALSE":
			return TagBool
		}
	case 'n', 'N':
		switch value {
		case "null", "Null", "NULL":
			return TagNull
		}
	case '~':
		if len(value) == 1 {
			return TagNull
		}
	case '<':
		if value == "<<" {
			return TagMerge
		}
	case '=':
		if len(value) == 1 {
			return TagValue
		}
	case '.':
		if isFloat12(value) {
			return TagFloat
		}
	case '-', '+':
		if isFloat12(value) {
			return TagFloat
		}
		if isInt12(value) {
			return TagInt
		}
	case '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		if isFloat12(value) {
			return TagFloat
		}
		if isInt12(value) {
			return TagInt
		}
		if isTimestamp(value) {
			return TagTimestamp
		}
	}
	return TagStr
}

// resolvePlain11 is ResolvePlain for a document that declares %YAML 1.1:
// yes/no/on/off/y/n are booleans, 017 is octal and 1:30 sexagesimal.
func resolvePlain11(value string) string {
	if value == "" {
		return TagNull
	}
	switch value {
	case "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO",
		"true", "True", "TRUE", "false", "False", "FALSE",
		"on", "On", "ON", "off", "Off", "OFF":
		return TagBool
	}
	switch value[0] {
	case '-', '+', '.', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		if isFloat11(value) {
			return TagFloat
		}
		if value[0] != '.' && isInt11(value) {
			return TagInt
		}
	}
	tag := ResolvePlain(value)
	if tag == TagFloat || tag == TagInt {
		return TagStr // a 1.2-only number form, such as 0o17
	}
	return tag
}

func isDigitByte(c byte) bool { return c >= '0' && c <= '9' }

// span returns the end of the run of bytes from i that satisfy ok.
func span(s string, i int, ok func(byte) bool) int {
	for i < len(s) && ok(s[i]) {
		i++
	}
	return i
}

func digitOrUnderscore(c byte) bool { return isDigitByte(c) || c == '_' }

func skipSign(s string) int {
	if s != "" && (s[0] == '-' || s[0] == '+') {
		return 1
	}
	return 0
}

// isFloat12 matches ruamel's YAML 1.2 float pattern:
//
//	[-+]?[0-9][0-9_]*\.[0-9_]*([eE][-+]?[0-9]+)?
//	[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+
//	[-+]?\.[0-9_]+([eE][-+][0-9]+)?
//	[-+]?\.(inf|Inf|INF)
//	\.(nan|NaN|NAN)
func isFloat12(s string) bool {
	switch s {
	case ".nan", ".NaN", ".NAN":
		return true
	}
	i := skipSign(s)
	rest := s[i:]
	switch rest {
	case ".inf", ".Inf", ".INF":
		return true
	}
	if rest == "" {
		return false
	}
	if rest[0] == '.' {
		j := span(rest, 1, digitOrUnderscore)
		if j == 1 {
			return false
		}
		return j == len(rest) || exponentAt(rest, j, true)
	}
	if !isDigitByte(rest[0]) {
		return false
	}
	j := span(rest, 1, digitOrUnderscore)
	if j == len(rest) {
		return false
	}
	if rest[j] == '.' {
		j = span(rest, j+1, digitOrUnderscore)
		return j == len(rest) || exponentAt(rest, j, false)
	}
	return exponentAt(rest, j, false)
}

// exponentAt reports whether s[i:] is exactly [eE][-+]?[0-9]+ (the sign
// mandatory when signRequired).
func exponentAt(s string, i int, signRequired bool) bool {
	if i >= len(s) || (s[i] != 'e' && s[i] != 'E') {
		return false
	}
	i++
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		i++
	} else if signRequired {
		return false
	}
	j := span(s, i, isDigitByte)
	return j > i && j == len(s)
}

// isInt12 matches [-+]?0b[0-1_]+ | [-+]?0o?[0-7_]+ | [-+]?[0-9_]+ |
// [-+]?0x[0-9a-fA-F_]+.
func isInt12(s string) bool {
	rest := s[skipSign(s):]
	if rest == "" {
		return false
	}
	if span(rest, 0, digitOrUnderscore) == len(rest) {
		return true
	}
	if len(rest) > 2 && rest[0] == '0' {
		body := rest[2:]
		switch rest[1] {
		case 'b':
			return span(body, 0, func(c byte) bool { return c == '0' || c == '1' || c == '_' }) == len(body)
		case 'o':
			return span(body, 0, isOctalOrUnderscore) == len(body)
		case 'x':
			return span(body, 0, isHexOrUnderscore) == len(body)
		}
	}
	return false
}

func isOctalOrUnderscore(c byte) bool { return (c >= '0' && c <= '7') || c == '_' }

func isHexOrUnderscore(c byte) bool {
	return isDigitByte(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == '_'
}

// isInt11 matches ruamel's YAML 1.1 int pattern: binary, octal (leading 0),
// decimal, hex and sexagesimal ([1-9][0-9_]*(:[0-5]?[0-9])+).
func isInt11(s string) bool {
	rest := s[skipSign(s):]
	if rest == "" {
		return false
	}
	if len(rest) > 2 && rest[0] == '0' && rest[1] == 'b' {
		body := rest[2:]
		return span(body, 0, func(c byte) bool { return c == '0' || c == '1' || c == '_' }) == len(body)
	}
	if len(rest) > 2 && rest[0] == '0' && rest[1] == 'x' {
		body := rest[2:]
		return span(body, 0, isHexOrUnderscore) == len(body)
	}
	// [-+]?0?[0-7_]+ (covers a lone octal-looking run and "0")
	if body := rest; body != "" {
		k := 0
		if body[0] == '0' {
			k = 1
		}
		if len(body) > k && span(body, k, isOctalOrUnderscore) == len(body) {
			return true
		}
	}
	if rest == "0" {
		return true
	}
	if rest[0] < '1' || rest[0] > '9' {
		return false
	}
	j := span(rest, 1, digitOrUnderscore)
	if j == len(rest) {
		return true
	}
	return sexagesimalTail(rest, j) == len(rest) && j < len(rest)
}

// sexagesimalTail consumes (:[0-5]?[0-9])+ from i and returns the end, or i.
func sexagesimalTail(s string, i int) int {
	end := i
	for end < len(s) && s[end] == ':' {
		j := end + 1
		if j+1 < len(s) && s[j] >= '0' && s[j] <= '5' && isDigitByte(s[j+1]) {
			j += 2
		} else if j < len(s) && isDigitByte(s[j]) {
			j++
		} else {
			break
		}
		end = j
	}
	return end
}

// isFloat11 matches ruamel's YAML 1.1 float pattern, which adds sexagesimal
// floats and drops the sign on the ".5" form.
func isFloat11(s string) bool {
	switch s {
	case ".nan", ".NaN", ".NAN":
		return true
	}
	i := skipSign(s)
	rest := s[i:]
	switch rest {
	case ".inf", ".Inf", ".INF":
		return true
	}
	if rest == "" {
		return false
	}
	if rest[0] == '.' {
		if i > 0 {
			return false
		}
		j := span(rest, 1, digitOrUnderscore)
		return j > 1 && (j == len(rest) || exponentAt(rest, j, true))
	}
	if !isDigitByte(rest[0]) {
		return false
	}
	j := span(rest, 1, digitOrUnderscore)
	if j == len(rest) {
		return false
	}
	switch rest[j] {
	case '.':
		k := span(rest, j+1, digitOrUnderscore)
		return k == len(rest) || exponentAt(rest, k, false)
	case ':':
		k := sexagesimalTail(rest, j)
		if k == j || k >= len(rest) || rest[k] != '.' {
			return false
		}
		return span(rest, k+1, digitOrUnderscore) == len(rest)
	}
	return exponentAt(rest, j, false)
}

// isTimestamp matches ruamel's timestamp pattern: a date (YYYY-MM-DD) or a
// date and time (YYYY-M-D[Tt ]H:MM:SS[.f][ ][Z|±H[:MM]]).
func isTimestamp(s string) bool {
	return parseTimestamp(s).ok
}

type timestamp struct {
	ok                   bool
	year, month, day     int
	hasTime              bool
	hour, minute, second int
	fraction, tz         string
}

func parseTimestamp(s string) timestamp {
	var t timestamp
	num := func(i, min, max int) (v, end int, ok bool) {
		j := i
		for j < len(s) && j-i < max && isDigitByte(s[j]) {
			v = v*10 + int(s[j]-'0')
			j++
		}
		return v, j, j-i >= min
	}
	var i int
	var ok bool
	if t.year, i, ok = num(0, 4, 4); !ok || i >= len(s) || s[i] != '-' {
		return t
	}
	if len(s) == 10 && s[7] == '-' && isDigitByte(s[5]) && isDigitByte(s[6]) && isDigitByte(s[8]) && isDigitByte(s[9]) {
		t.month = int(s[5]-'0')*10 + int(s[6]-'0')
		t.day = int(s[8]-'0')*10 + int(s[9]-'0')
		t.ok = true
		return t
	}
	if t.month, i, ok = num(i+1, 1, 2); !ok || i >= len(s) || s[i] != '-' {
		return t
	}
	if t.day, i, ok = num(i+1, 1, 2); !ok || i >= len(s) {
		return t
	}
	switch {
	case s[i] == 'T' || s[i] == 't':
		i++
	case s[i] == ' ' || s[i] == '\t':
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
	default:
		return t
	}
	if t.hour, i, ok = num(i, 1, 2); !ok || i >= len(s) || s[i] != ':' {
		return t
	}
	if t.minute, i, ok = num(i+1, 2, 2); !ok || i >= len(s) || s[i] != ':' {
		return t
	}
	if t.second, i, ok = num(i+1, 2, 2); !ok {
		return t
	}
	if i < len(s) && s[i] == '.' {
		j := span(s, i+1, isDigitByte)
		t.fraction = s[i+1 : j]
		i = j
	}
	k := i
	for k < len(s) && (s[k] == ' ' || s[k] == '\t') {
		k++
	}
	if k < len(s) {
		switch {
		case s[k] == 'Z':
			k++
		case s[k] == '-' || s[k] == '+':
			var end int
			if _, end, ok = num(k+1, 1, 2); !ok {
				return t
			}
			if end < len(s) && s[end] == ':' {
				if _, end, ok = num(end+1, 2, 2); !ok {
					return t
				}
			}
			k = end
		default:
			return t
		}
		t.tz = s[i:k]
		i = k
	}
	t.hasTime = true
	t.ok = i == len(s)
	return t
}
