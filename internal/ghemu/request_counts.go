package ghemu

import "maps"

// RequestCounts is every request received so far, counted the way
// Requests counts them: by "METHOD /template" for an operation of GitHub's
// description ("GET /repos/{owner}/{repo}/pulls/{pull_number}"), "GET /_raw/"
// and "GET /_codeload/" for file and archive downloads, and "METHOD /path"
// for a request that matched no operation. Refused and faulty requests
// count too. The map is a copy: benchmarks take one before and one after
// and subtract, to see what an exchange cost without naming every endpoint.
func (e *Emulator) RequestCounts() map[string]int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return maps.Clone(e.st.requests)
}
