package pyconv

import (
	"math"
	"math/big"
	"testing"
)

func TestFloat(t *testing.T) {
	ok := map[string]float64{
		"3": 3, "4.0": 4, " 4 ": 4, "\t4\n": 4, "1e0": 1, "4_0": 40, "1_0.5": 10.5, "-1": -1, "+1.5": 1.5,
		"٣": 3, "١٠": 10, "\u00a05\u2003": 5, "1.": 1, ".5": 0.5, "1e-3": 0.001, "1E+2": 100, "1e1_0": 1e10,
		"inf": math.Inf(1), "-Infinity": math.Inf(-1), "+iNf": math.Inf(1), "1e999": math.Inf(1),
	}
	for in, want := range ok {
		if got, good := Float(in); !good || got != want {
			t.Errorf("Float(%q) = %v, %v; want %v", in, got, good, want)
		}
	}
	if f, good := Float("nan"); !good || !math.IsNaN(f) {
		t.Errorf("Float(nan) = %v, %v", f, good)
	}
	if f, good := Float("-NaN"); !good || !math.IsNaN(f) {
		t.Errorf("Float(-NaN) = %v, %v", f, good)
	}
	for _, in := range []string{"", " ", "latest", "v3", "0x4", "1_", "_1", "1__0", "1_.0", "1._0", ".", "e5", "1e", "1e+", "1 0", "- 1", "infinit", "nan_", "٣x", "1\x1c", "1,5", "0b1", "Ⅻ"} {
		if f, good := Float(in); good {
			t.Errorf("Float(%q) = %v, want a ValueError", in, f)
		}
	}
}

func TestInt(t *testing.T) {
	ok := map[string]int64{"1000": 1000, " 10 ": 10, "1_000": 1000, "+5": 5, "-5": -5, "007": 7, "0_1": 1, "٣": 3}
	for in, want := range ok {
		if got, good := Int(in); !good || got.Cmp(big.NewInt(want)) != 0 {
			t.Errorf("Int(%q) = %v, %v; want %d", in, got, good, want)
		}
	}
	for _, in := range []string{"10.5", "lots", "", "1e3", "_1", "1_", "1__0", "0x10", "+", "- 1", "inf"} {
		if v, good := Int(in); good {
			t.Errorf("Int(%q) = %v, want a ValueError", in, v)
		}
	}
}

func TestFloatRepr(t *testing.T) {
	cases := map[float64]string{
		3: "3.0", 4.5: "4.5", -1: "-1.0", 0: "0.0", 1e16: "1e+16", 1e15: "1000000000000000.0", 0.0001: "0.0001",
		0.00001: "1e-05", 1.5e-7: "1.5e-07", 123456789012345678: "1.2345678901234568e+17", 0.1: "0.1", 40: "40.0",
		math.Inf(1): "inf", math.Inf(-1): "-inf", 1e300: "1e+300", 2.5e-300: "2.5e-300",
	}
	for in, want := range cases {
		if got := FloatRepr(in); got != want {
			t.Errorf("FloatRepr(%v) = %q, want %q", in, got, want)
		}
	}
	if got := FloatRepr(math.NaN()); got != "nan" {
		t.Errorf("FloatRepr(NaN) = %q", got)
	}
	if got := FloatRepr(math.Copysign(0, -1)); got != "-0.0" {
		t.Errorf("FloatRepr(-0) = %q", got)
	}
}

func TestDecimalAndSpace(t *testing.T) {
	for r, want := range map[rune]int{'0': 0, '7': 7, '٣': 3, '۹': 9, '३': 3, '𝟘': 0, '𝟡': 9, '𝟫': 9, '𝟬': 0, 'a': -1, 'Ⅻ': -1, '²': -1} {
		if got := DecimalValue(r); got != want {
			t.Errorf("DecimalValue(%q) = %d, want %d", r, got, want)
		}
	}
	for r, want := range map[rune]bool{' ': true, '\t': true, '\x1c': true, '\x85': true, '\u00a0': true, '\u2003': true, '\u2028': true, '\u3000': true, 'x': false, '\u200b': false, '\ufeff': false} {
		if got := IsSpace(r); got != want {
			t.Errorf("IsSpace(%q) = %v, want %v", r, got, want)
		}
	}
}

func TestIntToFloat(t *testing.T) {
	v, _ := new(big.Int).SetString("9007199254740993", 10)
	if f, ok := IntToFloat(v); !ok || f != 9007199254740992 {
		t.Errorf("IntToFloat(2^53+1) = %v, %v", f, ok)
	}
	huge := new(big.Int).Lsh(big.NewInt(1), 1024)
	if _, ok := IntToFloat(huge); ok {
		t.Error("2^1024 converted")
	}
}
