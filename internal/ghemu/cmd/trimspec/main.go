// Command trimspec cuts GitHub's REST description down to the operations the
// emulator implements (openapi.Operations) and the components they
// reference, and writes the result the emulator embeds:
//
//	go run ./cmd/trimspec -spec ../../../shared/github/api.github.com.json.gz -out openapi/github-trimmed.json.gz
//
// Running it again on the same input changes nothing.
package main

import (
	"bytes"
	"compress/gzip"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/fivesafes/fivesafes/internal/ghemu/openapi"
)

func main() {
	spec := flag.String("spec", "", "GitHub's REST description (api.github.com.json, gzipped or not)")
	out := flag.String("out", "openapi/github-trimmed.json.gz", "where to write the trimmed description (gzipped JSON)")
	flag.Parse()
	if *spec == "" {
		fmt.Fprintln(os.Stderr, "trimspec: -spec is required (e.g. ../../../shared/github/api.github.com.json.gz)")
		os.Exit(2)
	}
	if err := run(*spec, *out); err != nil {
		fmt.Fprintln(os.Stderr, "trimspec:", err)
		os.Exit(1)
	}
}

func run(specPath, outPath string) error {
	full, err := readMaybeGzip(specPath)
	if err != nil {
		return err
	}
	trimmed, err := openapi.Trim(full)
	if err != nil {
		return fmt.Errorf("%s: %w", specPath, err)
	}
	if err := os.WriteFile(outPath, trimmed, 0o644); err != nil {
		return err
	}
	fmt.Printf("trimspec: %d operations, wrote %s (%d bytes gzipped)\n", len(openapi.Operations), outPath, len(trimmed))
	return nil
}

func readMaybeGzip(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		return b, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return io.ReadAll(zr)
}
