package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunDispatchesCommands(t *testing.T) {
	cases := map[string]struct {
		args   []string
		code   int
		stdout string
		stderr string
	}{
		"no command":      {args: nil, code: 0, stdout: "Commands:"},
		"unknown command": {args: []string{"serv"}, code: 2, stderr: `unknown command "serv"`},
		"example config":  {args: []string{"serve", "--example-config"}, code: 0, stdout: "webhook_secret:"},
		"missing config":  {args: []string{"serve", "--config", "/nonexistent/fivesafes.yml"}, code: 2, stderr: "--example-config"},
		"bad flag":        {args: []string{"sandbox", "--bogus"}, code: 2, stderr: "flag provided but not defined"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(context.Background(), tc.args, &out, &errOut)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, out.String(), errOut.String())
			}
			if !strings.Contains(out.String(), tc.stdout) || !strings.Contains(errOut.String(), tc.stderr) {
				t.Fatalf("stdout %q / stderr %q, want %q / %q", out.String(), errOut.String(), tc.stdout, tc.stderr)
			}
		})
	}
}

func TestServeRefusesABadConfigurationWithEveryReason(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fivesafes.yml")
	if err := os.WriteFile(path, []byte("public_url: notaurl\ngithub:\n  app_id: 0\n  webhok_secret: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"serve", "--config", path}, &out, &errOut); code != 2 {
		t.Fatalf("exit %d, want 2", code)
	}
	for _, want := range []string{"public_url", "github.app_id", `did you mean "webhook_secret"`, "github.private_key_file: required"} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut.String())
		}
	}
}
