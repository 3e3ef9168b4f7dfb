package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunValidate(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	valid := write("valid.yaml", `version: '5.0'
actions:
  extract:
    run: ehrql:v1 generate-dataset analysis/dataset.py --output output/dataset.csv
    outputs:
      highly_sensitive:
        dataset: output/dataset.csv
  report:
    run: r:v2 analysis/report.R
    needs: [extract, extract]
    outputs:
      moderately_sensitive:
        chart: output/chart.png
      minimally_sensitive:
        log: output/report.log
`)
	invalid := write("invalid.yaml", `version: '4.0'
actions:
  a:
    run: python a.py
    outputs:
      moderately_sensitive:
        x: out/x.pdf
`)
	empty := write("empty.yaml", "")
	big := write("big.yaml", strings.Repeat("#", 4<<20+1))

	cases := map[string]struct {
		args       []string
		code       int
		stdout     string
		stderrHave string
	}{
		"valid with warning": {args: []string{valid}, code: 0, stdout: valid + ":10:22: warning: Action report lists extract more than once in its `needs`\n" +
			valid + ": valid, 2 actions\n"},
		"invalid": {args: []string{invalid}, code: 1, stdout: invalid + ":7:12: Output path out/x.pdf is invalid: out/x.pdf is not an allowed file type for moderately_sensitive outputs\n" +
			invalid + ":4:10: Action command python must have a version specified in the form :vN (e.g. python:v2)\n" +
			invalid + ":1:10: warning: Your project file is using an old version (4.0); consider updating to version 5\n"},
		"empty file": {args: []string{empty}, code: 1, stdout: empty + ": project.yaml is empty: it must be a mapping with `version` and `actions` (see https://docs.opensafely.org/actions-pipelines/)\n"},
		"too large":  {args: []string{big}, code: 1, stdout: big + ": the file is larger than 4 MiB, more than the bot reads; a project.yaml is normally a few kilobytes\n"},
		"json valid": {args: []string{"--json", valid}, code: 0, stdout: `{
  "valid": true,
  "errors": [],
  "warnings": [
    {
      "line": 10,
      "column": 22,
      "message": "Action report lists extract more than once in its ` + "`needs`" + `",
      "rule": "needs.repeated"
    }
  ],
  "actions": [
    {
      "name": "extract",
      "run": "ehrql:v1 generate-dataset analysis/dataset.py --output output/dataset.csv",
      "needs": [],
      "outputs": {
        "highly_sensitive": {
          "dataset": "output/dataset.csv"
        }
      }
    },
    {
      "name": "report",
      "run": "r:v2 analysis/report.R",
      "needs": [
        "extract",
        "extract"
      ],
      "outputs": {
        "moderately_sensitive": {
          "chart": "output/chart.png"
        },
        "minimally_sensitive": {
          "log": "output/report.log"
        }
      }
    }
  ]
}
`},
		"json invalid": {args: []string{"-json", empty}, code: 1, stdout: `{
  "valid": false,
  "errors": [
    {
      "line": 0,
      "column": 0,
      "message": "project.yaml is empty: it must be a mapping with ` + "`version` and `actions`" + ` (see https://docs.opensafely.org/actions-pipelines/)",
      "rule": "uncaught.TypeError"
    }
  ],
  "warnings": [],
  "actions": []
}
`},
		"missing file":    {args: []string{filepath.Join(dir, "nope.yaml")}, code: 2, stderrHave: "nope.yaml does not exist; run this in the study's directory or give the path to its project.yaml"},
		"default path":    {args: nil, code: 2, stderrHave: "project.yaml does not exist"},
		"directory":       {args: []string{dir}, code: 2, stderrHave: "is a directory"},
		"two paths":       {args: []string{valid, invalid}, code: 2, stderrHave: "give one project.yaml at a time (got 2 paths)"},
		"unknown flag":    {args: []string{"--yaml", valid}, code: 2, stderrHave: "flag provided but not defined: -yaml"},
		"help":            {args: []string{"-h"}, code: 0, stdout: validateUsage},
		"flag after path": {args: []string{valid, "--json"}, code: 2, stderrHave: "got 2 paths"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := runValidate(tc.args, &stdout, &stderr)
			if code != tc.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tc.code, stderr.String())
			}
			if tc.stdout != "" || tc.code == 2 {
				if stdout.String() != tc.stdout {
					t.Errorf("stdout\n%s\nwant\n%s", stdout.String(), tc.stdout)
				}
			}
			if tc.stderrHave != "" && !strings.Contains(stderr.String(), tc.stderrHave) {
				t.Errorf("stderr %q lacks %q", stderr.String(), tc.stderrHave)
			}
			if tc.stderrHave == "" && stderr.Len() > 0 {
				t.Errorf("unexpected stderr %q", stderr.String())
			}
		})
	}
}
