package exec

import (
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// datasetColumn finds `dataset.NAME = ...` in an ehrQL dataset definition.
var datasetColumn = regexp.MustCompile(`(?m)^[ \t]*dataset\.([A-Za-z_][A-Za-z0-9_]*)[ \t]*=[^=]`)

const defaultPopulation = 100

// runEhrql stands in for `ehrql generate-dataset`: a small dummy dataset with
// a patient_id column and one column per `dataset.NAME =` line of the
// definition, the same for the same definition every time.
func runEhrql(ws *os.Root, args []string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "generate-dataset" {
		return usageError("only generate-dataset is built in")
	}
	var def, output string
	population := defaultPopulation
	rest := args[1:]
	for i := 0; i < len(rest); i++ {
		a := rest[i]
		value := func() (string, error) {
			if _, v, ok := strings.Cut(a, "="); ok {
				return v, nil
			}
			if i+1 == len(rest) {
				return "", usageError(a + " needs a value")
			}
			i++
			return rest[i], nil
		}
		var err error
		switch {
		case a == "--":
			i = len(rest) // parameters for the definition: ignored
		case a == "--output" || strings.HasPrefix(a, "--output="):
			output, err = value()
		case a == "--population-size" || strings.HasPrefix(a, "--population-size="):
			var v string
			if v, err = value(); err == nil {
				population, err = strconv.Atoi(v)
				if err != nil || population < 0 || population > 1_000_000 {
					err = usageError(fmt.Sprintf("population size %q is not a number from 0 to 1000000", v))
				}
			}
		case strings.HasPrefix(a, "-"):
			err = usageError("unknown option " + a + " (the built-in knows --output and --population-size)")
		case def == "":
			def = a
		default:
			err = usageError("unexpected argument " + a)
		}
		if err != nil {
			return err
		}
	}
	if def == "" {
		return usageError("want a dataset definition file")
	}
	f, err := openIn(ws, def)
	if err != nil {
		return err
	}
	source, err := io.ReadAll(f)
	f.Close()
	if err != nil {
		return err
	}
	columns := []string{"patient_id"}
	for _, m := range datasetColumn.FindAllSubmatch(source, -1) {
		columns = append(columns, string(m[1]))
	}
	write := func(w io.Writer) error { return writeDummyDataset(w, source, columns, population) }
	switch {
	case output == "":
		return write(stdout)
	case strings.HasSuffix(output, ".csv.gz"):
		return createIn(ws, output, func(w io.Writer) error {
			gz := gzip.NewWriter(w) // no name, no time: the same bytes every run
			if err := write(gz); err != nil {
				return err
			}
			return gz.Close()
		})
	case strings.HasSuffix(output, ".csv"):
		return createIn(ws, output, write)
	}
	return usageError(fmt.Sprintf("output %s: the built-in writes only .csv and .csv.gz", output))
}

func writeDummyDataset(w io.Writer, source []byte, columns []string, population int) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(columns); err != nil {
		return err
	}
	seed := sha256.Sum256(source)
	row := make([]string, len(columns))
	for p := 1; p <= population; p++ {
		row[0] = strconv.Itoa(p)
		for c := 1; c < len(columns); c++ {
			row[c] = dummyValue(columns[c], dummyNumber(seed, p, columns[c]))
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func dummyNumber(seed [32]byte, patient int, column string) uint64 {
	h := sha256.New()
	h.Write(seed[:])
	fmt.Fprintf(h, "%d/%s", patient, column)
	return binary.BigEndian.Uint64(h.Sum(nil))
}

// dummyValue picks a plausible value from the column's name.
func dummyValue(column string, n uint64) string {
	name := strings.ToLower(column)
	switch {
	case name == "sex":
		return [...]string{"female", "male"}[n%2]
	case strings.Contains(name, "date"):
		return time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, int(n%1461)).Format(time.DateOnly)
	case strings.Contains(name, "age"):
		return strconv.FormatUint(18+n%80, 10)
	case strings.HasPrefix(name, "has_") || strings.HasPrefix(name, "is_"):
		return [...]string{"F", "T"}[n%2]
	}
	return strconv.FormatUint(n%100, 10)
}
