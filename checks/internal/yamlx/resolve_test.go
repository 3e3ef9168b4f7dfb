package yamlx

import "testing"

func TestResolvePlain(t *testing.T) {
	cases := map[string]string{
		"":                          TagNull,
		"~":                         TagNull,
		"null":                      TagNull,
		"Null":                      TagNull,
		"NULL":                      TagNull,
		"nULL":                      TagStr,
		"true":                      TagBool,
		"True":                      TagBool,
		"TRUE":                      TagBool,
		"false":                     TagBool,
		"tRUE":                      TagStr, // only three spellings, as ruamel's regex
		"yes":                       TagStr,
		"no":                        TagStr,
		"on":                        TagStr,
		"off":                       TagStr,
		"y":                         TagStr,
		"n":                         TagStr,
		"0":                         TagInt,
		"17":                        TagInt,
		"-17":                       TagInt,
		"+17":                       TagInt,
		"017":                       TagInt, // decimal 17 in YAML 1.2
		"0o17":                      TagInt,
		"0x1F":                      TagInt,
		"0x1f":                      TagInt,
		"0b101":                     TagInt,
		"4_0":                       TagInt,
		"1_000":                     TagInt,
		"_":                         TagStr, // no resolver is keyed on "_"
		"+_":                        TagInt, // matches the pattern; the constructor then fails
		"0x":                        TagStr,
		"0o":                        TagStr,
		"0b":                        TagStr,
		"0o8":                       TagStr,
		"0xg":                       TagStr,
		"2017":                      TagInt,
		"3.0":                       TagFloat,
		"3.":                        TagFloat,
		".5":                        TagFloat,
		"-.5":                       TagFloat,
		"1e5":                       TagFloat,
		"1E+5":                      TagFloat,
		"1.5e-3":                    TagFloat,
		".5e3":                      TagStr, // the ".5" form needs a signed exponent
		".5e+3":                     TagFloat,
		"1_0.5":                     TagFloat,
		".":                         TagStr,
		"1e":                        TagStr,
		"e5":                        TagStr,
		".inf":                      TagFloat,
		"-.inf":                     TagFloat,
		"+.Inf":                     TagFloat,
		".INF":                      TagFloat,
		".nan":                      TagFloat,
		".NaN":                      TagFloat,
		"-.nan":                     TagStr,
		"inf":                       TagStr,
		"nan":                       TagStr,
		"2021-01-01":                TagTimestamp,
		"2021-1-1":                  TagStr,
		"2021-1-1 1:02:03":          TagTimestamp,
		"2021-01-01T10:00:00Z":      TagTimestamp,
		"2021-01-01 10:00:00.5 +01": TagTimestamp,
		"2021-01-01t10:00:00-05:30": TagTimestamp,
		"2021-01-01 10:00":          TagStr,
		"2021-01-01x":               TagStr,
		"<<":                        TagMerge,
		"=":                         TagValue,
		"==":                        TagStr,
		"3.0.1":                     TagStr,
		"v2":                        TagStr,
		"python:v2":                 TagStr,
		"output/*.csv":              TagStr,
		"1:30":                      TagStr, // sexagesimal only in YAML 1.1
		"- x":                       TagStr,
	}
	for in, want := range cases {
		if got := ResolvePlain(in); got != want {
			t.Errorf("ResolvePlain(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestResolvePlain11(t *testing.T) {
	cases := map[string]string{
		"yes":        TagBool,
		"No":         TagBool,
		"on":         TagBool,
		"OFF":        TagBool,
		"y":          TagBool,
		"017":        TagInt,
		"0o17":       TagStr,
		"09":         TagStr,
		"1:30":       TagInt,
		"1:30.5":     TagFloat,
		"190:20:30":  TagInt,
		"1:70":       TagStr,
		"+.5":        TagStr,
		".5":         TagFloat,
		"3.0":        TagFloat,
		"2021-01-01": TagTimestamp,
		"~":          TagNull,
		"x":          TagStr,
	}
	for in, want := range cases {
		if got := resolvePlain11(in); got != want {
			t.Errorf("resolvePlain11(%q) = %s, want %s", in, got, want)
		}
	}
}
