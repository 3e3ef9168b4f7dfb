package ghemu

import (
	"encoding/base64"
	"fmt"
	"maps"
	"mime"
	"net/http"
	"path"
	"slices"
	"strings"
)

// GitHub's size limits for file contents.
const (
	maxContentJSON = 1 << 20   // larger files come with "encoding": "none" and no content
	maxContentRaw  = 100 << 20 // larger files cannot be read through the API
)

// rawPrefix serves download_url: raw.githubusercontent.com on GitHub,
// a path of the emulator here (outside the REST description, not checked).
const rawPrefix = "/_raw/"

// getContents serves GET /repos/{owner}/{repo}/contents/{path}.
func getContents(e *Emulator, c *call) reply {
	r, rep, ok := e.repoForCallLocked(c, false)
	if !ok {
		return rep
	}
	ref := c.query("ref")
	cm, ok := e.resolveLocked(r, ref)
	if !ok {
		return errorReply(http.StatusNotFound, "No commit found for the ref "+ref)
	}
	p := strings.Trim(c.param("path"), "/")
	if content, ok := cm.tree[p]; ok {
		if wantsRaw(c.r.Header.Get("Accept")) {
			if len(content) > maxContentRaw {
				return errorReply(http.StatusForbidden, "This API returns blobs up to 100 MB in size. The requested blob is too large to fetch via the API.")
			}
			return reply{status: http.StatusOK, raw: content, contentType: "application/vnd.github.raw"}
		}
		return jsonReply(http.StatusOK, e.fileJSON(r, cm, p, content))
	}
	entries := e.dirJSON(r, cm, p)
	if len(entries) == 0 {
		return notFound()
	}
	return jsonReply(http.StatusOK, entries)
}

// wantsRaw reports whether Accept asks for the raw media type
// (application/vnd.github.raw, .raw+json, .v3.raw).
func wantsRaw(accept string) bool {
	for _, part := range strings.Split(accept, ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		sub := strings.TrimPrefix(mt, "application/vnd.github.")
		sub = strings.TrimPrefix(sub, "v3.")
		if sub != mt && (sub == "raw" || strings.HasPrefix(sub, "raw+")) {
			return true
		}
	}
	return false
}

func (e *Emulator) contentLinks(r *repo, cm *commit, p, kind, sha string) obj {
	api := fmt.Sprintf("%s/repos/%s/contents/%s?ref=%s", e.url, r.fullName(), p, cm.sha)
	git := fmt.Sprintf("%s/repos/%s/git/%s/%s", e.url, r.fullName(), map[string]string{"file": "blobs", "dir": "trees"}[kind], sha)
	html := fmt.Sprintf("%s/%s/%s/%s/%s", htmlBase, r.fullName(), map[string]string{"file": "blob", "dir": "tree"}[kind], cm.sha, p)
	var download any
	if kind == "file" {
		download = e.url + rawPrefix + r.fullName() + "/" + cm.sha + "/" + p
	}
	return obj{
		"type": kind, "name": path.Base(p), "path": p, "sha": sha, "url": api, "git_url": git,
		"html_url": html, "download_url": download,
		"_links": obj{"self": api, "git": git, "html": html},
	}
}

// fileJSON is the JSON form of a file: base64 in 60-column lines, as GitHub
// sends it, or no content at all above 1 MB.
func (e *Emulator) fileJSON(r *repo, cm *commit, p string, content []byte) obj {
	o := e.contentLinks(r, cm, p, "file", blobSHA(content))
	o["size"] = len(content)
	if len(content) > maxContentJSON {
		o["content"], o["encoding"] = "", "none"
		return o
	}
	enc := base64.StdEncoding.EncodeToString(content)
	var b strings.Builder
	for len(enc) > 60 {
		b.WriteString(enc[:60] + "\n")
		enc = enc[60:]
	}
	if enc != "" {
		b.WriteString(enc + "\n")
	}
	o["content"], o["encoding"] = b.String(), "base64"
	return o
}

// dirJSON lists the directory dir ("" for the root), or nil if there is none.
func (e *Emulator) dirJSON(r *repo, cm *commit, dir string) []obj {
	prefix := dir + "/"
	if dir == "" {
		prefix = ""
	}
	files := map[string][]byte{}
	subdirs := map[string]map[string][]byte{}
	for p, content := range cm.tree {
		rest, ok := strings.CutPrefix(p, prefix)
		if !ok {
			continue
		}
		if name, below, isDir := strings.Cut(rest, "/"); isDir {
			if subdirs[name] == nil {
				subdirs[name] = map[string][]byte{}
			}
			subdirs[name][below] = content
		} else {
			files[rest] = content
		}
	}
	var out []obj
	for _, name := range slices.Sorted(maps.Keys(subdirs)) {
		o := e.contentLinks(r, cm, prefix+name, "dir", hashTree(subdirs[name], nil))
		o["size"] = 0
		out = append(out, o)
	}
	for _, name := range slices.Sorted(maps.Keys(files)) {
		o := e.contentLinks(r, cm, prefix+name, "file", blobSHA(files[name]))
		o["size"] = len(files[name])
		out = append(out, o)
	}
	return out
}

// serveRawDownload serves download_url: /_raw/{owner}/{repo}/{sha}/{path}.
func (e *Emulator) serveRawDownload(w http.ResponseWriter, r *http.Request) {
	e.count("GET " + rawPrefix)
	parts := strings.SplitN(strings.TrimPrefix(r.URL.Path, rawPrefix), "/", 4)
	e.mu.Lock()
	var content []byte
	found := false
	if len(parts) == 4 {
		if rp, ok := e.st.repos[repoKey(parts[0]+"/"+parts[1])]; ok {
			if cm, ok := e.resolveLocked(rp, parts[2]); ok {
				content, found = cm.tree[parts[3]]
			}
		}
	}
	e.mu.Unlock()
	if !found {
		http.Error(w, "404: Not Found", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write(content)
}
