// Package openapi lists the GitHub REST operations the emulator implements
// and holds github-trimmed.json.gz: GitHub's REST description cut down to
// those operations and the components they reference. cmd/trimspec writes
// it from the full description; the emulator embeds it.
package openapi

// Operations are "METHOD /path-template" exactly as GitHub's description
// spells them. Adding one means: add it here, run `go generate` in
// internal/ghemu, and register its handler in the emulator's route table.
var Operations = []string{
	"GET /app",
	"POST /app/installations/{installation_id}/access_tokens",
	"GET /repos/{owner}/{repo}",
	"GET /repos/{owner}/{repo}/contents/{path}",
	"GET /repos/{owner}/{repo}/pulls/{pull_number}",
	"POST /repos/{owner}/{repo}/check-runs",
	"GET /repos/{owner}/{repo}/check-runs/{check_run_id}",
	"PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}",
	"GET /repos/{owner}/{repo}/check-runs/{check_run_id}/annotations",
	"GET /repos/{owner}/{repo}/commits/{ref}/check-runs",
}
