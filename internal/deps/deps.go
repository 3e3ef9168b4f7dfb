//go:build tools

// Package deps pins the modules the project is built on while the packages
// that use them are being written; `go mod tidy` keeps what is listed here.
package deps

import (
	_ "github.com/bradleyfalzon/ghinstallation/v2"
	_ "github.com/getkin/kin-openapi/openapi3"
	_ "github.com/gofri/go-github-ratelimit/v2/github_ratelimit"
	_ "github.com/google/go-github/v88/github"
	_ "github.com/hashicorp/go-retryablehttp"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "go.yaml.in/yaml/v3"
	_ "modernc.org/sqlite"
)
