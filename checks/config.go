package checks

import (
	"bytes"
	"encoding/json"
	"math"

	"github.com/fivesafes/fivesafes/checks/internal/pyconv"
	"github.com/fivesafes/fivesafes/checks/internal/yamlx"
)

// configJSON renders an action's config mapping as job-runner's
// json.dumps(config) would, keys in file order. Where Python would write
// something that is not JSON (NaN, Infinity) it writes null.
func configJSON(n *yamlx.Node) json.RawMessage {
	var b bytes.Buffer
	writeJSON(&b, n)
	return json.RawMessage(b.Bytes())
}

func writeJSON(b *bytes.Buffer, n *yamlx.Node) {
	switch n.Kind {
	case yamlx.Mapping:
		b.WriteByte('{')
		for i := 0; i+1 < len(n.Content); i += 2 {
			if i > 0 {
				b.WriteByte(',')
			}
			writeString(b, jsonKey(n.Content[i]))
			b.WriteByte(':')
			writeJSON(b, n.Content[i+1])
		}
		b.WriteByte('}')
	case yamlx.Sequence:
		b.WriteByte('[')
		for i, c := range n.Content {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSON(b, c)
		}
		b.WriteByte(']')
	default:
		switch n.Tag {
		case yamlx.TagNull:
			b.WriteString("null")
		case yamlx.TagBool:
			if v, _ := yamlx.BoolValue(n.Value); v {
				b.WriteString("true")
			} else {
				b.WriteString("false")
			}
		case yamlx.TagInt:
			b.WriteString(yamlx.Str(n))
		case yamlx.TagFloat:
			f, _ := yamlx.FloatValue(n.Value)
			if math.IsNaN(f) || math.IsInf(f, 0) {
				b.WriteString("null")
			} else {
				b.WriteString(pyconv.FloatRepr(f))
			}
		default:
			writeString(b, yamlx.Str(n))
		}
	}
}

// jsonKey is how json.dumps turns a key into a string.
func jsonKey(k *yamlx.Node) string {
	if k.Kind == yamlx.Scalar {
		switch k.Tag {
		case yamlx.TagNull:
			return "null"
		case yamlx.TagBool:
			if v, _ := yamlx.BoolValue(k.Value); v {
				return "true"
			}
			return "false"
		}
	}
	return yamlx.Str(k)
}

func writeString(b *bytes.Buffer, s string) {
	enc, _ := json.Marshal(s)
	b.Write(enc)
}
