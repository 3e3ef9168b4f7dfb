package checks

import (
	"math"
	"math/big"

	"github.com/fivesafes/fivesafes/checks/internal/pyconv"
	"github.com/fivesafes/fivesafes/checks/internal/yamlx"
)

const defaultPopulationSize = 1000

// expectations checks the cohortextractor `expectations` section (T12),
// which only version 3.0 requires and versions from 4 forbid.
func (v *validator) expectations(root *yamlx.Node) *Expectations {
	key, val, ok := lookup(root, "expectations")
	present := ok && !val.IsNull()
	switch ver := v.version; {
	case !ver.known:
		return nil
	case ver.noCohortExtractor():
		if present {
			v.errorf(key, ruleExpectationsNotAllowed, "Project includes `expectations` section, which is not supported in this version. "+
				"This section is only applicable to deprecated cohortextractor actions; you can safely remove it.")
		}
		return nil
	case !ver.expectationsRequired():
		return &Expectations{PopulationSize: defaultPopulationSize} // whatever the file says
	case !present:
		at := key
		if !ok { // point at the version, which is what makes the section required
			_, at, _ = lookup(root, "version")
		}
		v.errorf(at, ruleExpectationsMissing, "Project must include `expectations` section")
		return nil
	case val.Kind != yamlx.Mapping:
		v.errorf(val, ruleExpectationsNotDict, "Project `expectations` section must be a dictionary of key/value pairs")
		return nil
	}
	_, size, ok := lookup(val, "population_size")
	if !ok {
		v.errorf(key, ruleExpectationsNoSize, "Project `expectations` section must include `population_size` section")
	}
	v.keywordKeys(val, "`expectations`", "", []string{"cls"}, "population_size")
	v.unexpectedKeys(val, []string{"population_size"}, ruleExpectationsUnexpected, "in project `expectations` section", "")
	if !ok {
		return nil
	}
	n, status := pyInt(size)
	switch status {
	case floatInvalid:
		v.errorf(size, ruleExpectationsSizeNaN, "Project expectations population size must be a number")
		return nil
	case floatOverflow:
		v.errorf(size, ruleOverflowError, "Project expectations population size must be a whole number, not infinity")
		return nil
	}
	e := &Expectations{PopulationSize: math.MaxInt64}
	if n.IsInt64() {
		e.PopulationSize = n.Int64()
	} else if n.Sign() < 0 {
		e.PopulationSize = math.MinInt64
	}
	return e
}

// pyInt is Python's int() of the value n loads as.
func pyInt(n *yamlx.Node) (*big.Int, floatStatus) {
	if n.Kind != yamlx.Scalar {
		return nil, floatInvalid
	}
	switch n.Tag {
	case yamlx.TagInt:
		if i, ok := yamlx.IntValue(n.Value); ok {
			return i, floatOK
		}
	case yamlx.TagStr:
		if i, ok := pyconv.Int(n.Value); ok {
			return i, floatOK
		}
	case yamlx.TagBool:
		if b, ok := yamlx.BoolValue(n.Value); ok && b {
			return big.NewInt(1), floatOK
		}
		return big.NewInt(0), floatOK
	case yamlx.TagFloat:
		f, ok := yamlx.FloatValue(n.Value)
		switch {
		case !ok || math.IsNaN(f):
		case math.IsInf(f, 0):
			return nil, floatOverflow
		default:
			i, _ := new(big.Float).SetFloat64(math.Trunc(f)).Int(nil)
			return i, floatOK
		}
	}
	return nil, floatInvalid
}
