package ghemu

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"
)

// The Git Data API: blobs, trees and commits. Every file of the emulator
// is a 100644 blob; blob and tree IDs are Git's, and so are the IDs of
// commits made through the API (see gitCommitSHA); the helpers' commits
// have IDs that leave out authors and dates (see commitSHA).

// createBlob serves POST /repos/{owner}/{repo}/git/blobs.
func createBlob(e *Emulator, c *call) reply {
	r, rep, ok := e.repoForCallLocked(c, true)
	if !ok {
		return rep
	}
	var in struct {
		Content  string `json:"content"`
		Encoding string `json:"encoding"`
	}
	if err := json.Unmarshal(c.body, &in); err != nil {
		return errorReply(http.StatusBadRequest, "Problems parsing JSON")
	}
	var content []byte
	switch in.Encoding {
	case "", "utf-8":
		content = []byte(in.Content)
	case "base64":
		b, err := decodeBase64(in.Content)
		if err != nil {
			return c.ruleBroken("content is not valid Base64")
		}
		content = b
	default:
		return c.ruleBroken("encoding %q is not supported: use utf-8 or base64", in.Encoding)
	}
	sha := blobSHA(content)
	e.st.blobs[sha] = content
	e.changedLocked()
	url := e.gitURL(r, "blobs", sha)
	return reply{status: http.StatusCreated, body: obj{"url": url, "sha": sha}, header: http.Header{"Location": {url}}}
}

// decodeBase64 reads base64 the way GitHub does: line breaks allowed.
func decodeBase64(s string) ([]byte, error) {
	return base64.StdEncoding.DecodeString(strings.NewReplacer("\n", "", "\r", "").Replace(s))
}

// base64Lines is base64 in 60-column lines, as GitHub sends file contents.
func base64Lines(content []byte) string {
	enc := base64.StdEncoding.EncodeToString(content)
	var b strings.Builder
	for len(enc) > 60 {
		b.WriteString(enc[:60] + "\n")
		enc = enc[60:]
	}
	if enc != "" {
		b.WriteString(enc + "\n")
	}
	return b.String()
}

func (e *Emulator) gitURL(r *repo, kind, sha string) string {
	return fmt.Sprintf("%s/repos/%s/git/%s/%s", e.url, r.fullName(), kind, sha)
}

// getBlob serves GET /repos/{owner}/{repo}/git/blobs/{file_sha}.
func getBlob(e *Emulator, c *call) reply {
	r, rep, ok := e.repoForCallLocked(c, false)
	if !ok {
		return rep
	}
	sha := strings.ToLower(c.param("file_sha"))
	content, ok := e.st.blobs[sha]
	if !ok {
		return notFound()
	}
	return jsonReply(http.StatusOK, obj{
		"sha": sha, "node_id": gitNodeID("Blob", r, sha), "size": len(content), "url": e.gitURL(r, "blobs", sha),
		"content": base64Lines(content), "encoding": "base64",
	})
}

// gitNodeID is a node ID for a Git object of r.
func gitNodeID(kind string, r *repo, sha string) string {
	return base64.StdEncoding.EncodeToString(fmt.Appendf(nil, "%02d:%s%d:%s", len(kind), kind, r.id, sha))
}

// treeEntry is an entry of a create-tree request. sha is kept raw to tell
// a missing sha from "sha": null (which deletes the path).
type treeEntry struct {
	Path    string          `json:"path"`
	Mode    string          `json:"mode"`
	Type    string          `json:"type"`
	SHA     json.RawMessage `json:"sha"`
	Content *string         `json:"content"`
}

// createTree serves POST /repos/{owner}/{repo}/git/trees.
func createTree(e *Emulator, c *call) reply {
	r, rep, ok := e.repoForCallLocked(c, true)
	if !ok {
		return rep
	}
	var in struct {
		BaseTree string      `json:"base_tree"`
		Tree     []treeEntry `json:"tree"`
	}
	if err := json.Unmarshal(c.body, &in); err != nil {
		return errorReply(http.StatusBadRequest, "Problems parsing JSON")
	}
	files := map[string][]byte{}
	if in.BaseTree != "" {
		base, ok := e.st.trees[strings.ToLower(in.BaseTree)]
		if !ok {
			return errorReply(http.StatusUnprocessableEntity, "base_tree "+in.BaseTree+" is not a tree (a commit's tree is in its \"tree\" field)")
		}
		maps.Copy(files, base)
	}
	for i, en := range in.Tree {
		if rep, ok := e.applyTreeEntryLocked(c, files, en); !ok {
			if rep.rule != nil {
				rep.rule = fmt.Errorf("tree[%d]: %w", i, rep.rule)
			}
			return rep
		}
	}
	id := e.storeTreeLocked(files)
	e.changedLocked()
	url := e.gitURL(r, "trees", id)
	return reply{status: http.StatusCreated, body: e.treeJSON(r, id, files, false), header: http.Header{"Location": {url}}}
}

// applyTreeEntryLocked changes files as one entry of a create-tree request
// says.
func (e *Emulator) applyTreeEntryLocked(c *call, files map[string][]byte, en treeEntry) (reply, bool) {
	p := en.Path
	if p == "" || strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") ||
		slices.ContainsFunc(strings.Split(p, "/"), func(s string) bool { return s == "" || s == "." || s == ".." || s == ".git" }) {
		return c.ruleBroken("tree.path %q contains a malformed path component", p), false
	}
	kind := cmp.Or(en.Type, map[string]string{"040000": "tree", "160000": "commit"}[en.Mode], "blob")
	mode := cmp.Or(en.Mode, map[string]string{"tree": "040000", "commit": "160000"}[kind], "100644")
	switch {
	case kind == "tree" && mode != "040000", kind == "commit" && mode != "160000", kind == "blob" && (mode == "040000" || mode == "160000"):
		return c.ruleBroken("tree.mode %s does not go with tree.type %s", mode, kind), false
	case kind == "commit" || mode == "120000" || mode == "100755":
		return c.unsupported("tree entries of mode " + mode + " (every file is a 100644 blob)"), false
	}
	var sha *string
	deleting := string(en.SHA) == "null"
	if len(en.SHA) > 0 && !deleting {
		if err := json.Unmarshal(en.SHA, &sha); err != nil {
			return errorReply(http.StatusBadRequest, "Problems parsing JSON"), false
		}
	}
	switch {
	case sha != nil && en.Content != nil:
		return c.ruleBroken("Must supply either tree.sha or tree.content. Request will be rejected if both are present."), false
	case sha == nil && en.Content == nil && !deleting:
		return c.ruleBroken("Must supply either tree.sha or tree.content"), false
	}
	// Whatever was at the path, file or directory, goes.
	delete(files, p)
	maps.DeleteFunc(files, func(q string, _ []byte) bool { return strings.HasPrefix(q, p+"/") })
	switch {
	case deleting:
	case en.Content != nil && kind == "tree":
		return c.ruleBroken("tree.content cannot be given for a tree"), false
	case en.Content != nil:
		files[p] = []byte(*en.Content)
	case kind == "tree":
		sub, ok := e.st.trees[strings.ToLower(*sha)]
		if !ok {
			return errorReply(http.StatusUnprocessableEntity, "tree.sha "+*sha+" is not a valid tree"), false
		}
		for q, content := range sub {
			files[p+"/"+q] = content
		}
	default:
		content, ok := e.st.blobs[strings.ToLower(*sha)]
		if !ok {
			return errorReply(http.StatusUnprocessableEntity, "tree.sha "+*sha+" is not a valid blob"), false
		}
		files[p] = content
	}
	return reply{}, true
}

// treeJSON is the "git-tree" shape of tree id, whose files are given;
// recursive lists subtrees' entries after each subtree, as
// `git ls-tree -r -t` does.
func (e *Emulator) treeJSON(r *repo, id string, files map[string][]byte, recursive bool) obj {
	return obj{"sha": id, "url": e.gitURL(r, "trees", id), "truncated": false, "tree": e.treeEntriesJSON(r, "", files, recursive)}
}

func (e *Emulator) treeEntriesJSON(r *repo, prefix string, files map[string][]byte, recursive bool) []obj {
	type entry struct {
		key, name string
		sub       map[string][]byte // nil for a blob
	}
	byName := map[string]*entry{}
	for p, content := range files {
		if dir, rest, ok := strings.Cut(p, "/"); ok {
			en := byName[dir]
			if en == nil {
				en = &entry{key: dir + "/", name: dir, sub: map[string][]byte{}}
				byName[dir] = en
			}
			en.sub[rest] = content
			continue
		}
		byName[p] = &entry{key: p, name: p}
	}
	entries := slices.Collect(maps.Values(byName))
	slices.SortFunc(entries, func(a, b *entry) int { return cmp.Compare(a.key, b.key) })
	out := []obj{}
	for _, en := range entries {
		if en.sub == nil {
			content := files[en.name]
			sha := blobSHA(content)
			out = append(out, obj{"path": prefix + en.name, "mode": "100644", "type": "blob", "sha": sha, "size": len(content), "url": e.gitURL(r, "blobs", sha)})
			continue
		}
		sha := hashTree(en.sub, nil)
		out = append(out, obj{"path": prefix + en.name, "mode": "040000", "type": "tree", "sha": sha, "url": e.gitURL(r, "trees", sha)})
		if recursive {
			out = append(out, e.treeEntriesJSON(r, prefix+en.name+"/", en.sub, true)...)
		}
	}
	return out
}

// getTree serves GET /repos/{owner}/{repo}/git/trees/{tree_sha}. Like
// GitHub it also takes a commit SHA or a branch for the tree.
func getTree(e *Emulator, c *call) reply {
	r, rep, ok := e.repoForCallLocked(c, false)
	if !ok {
		return rep
	}
	ref := c.param("tree_sha")
	id := strings.ToLower(ref)
	files, ok := e.st.trees[id]
	if !ok {
		cm, found := e.resolveLocked(r, ref)
		if !found {
			return notFound()
		}
		id, files = cm.treeSHA, cm.tree
	}
	return jsonReply(http.StatusOK, e.treeJSON(r, id, files, c.r.URL.Query().Has("recursive")))
}

// identity is an author or committer of a create-commit request.
type identity struct {
	Name  string     `json:"name"`
	Email string     `json:"email"`
	Date  *time.Time `json:"date"`
}

// appSignature is how GitHub signs what the app commits.
func (e *Emulator) appSignature() signature {
	return e.userSignature(AppLogin)
}

func (e *Emulator) signatureOf(id *identity, fallback signature) signature {
	if id == nil {
		return fallback
	}
	s := signature{name: cmp.Or(id.Name, fallback.name), email: cmp.Or(id.Email, fallback.email), at: fallback.at}
	if id.Date != nil {
		s.at = id.Date.Truncate(time.Second) // in its own time zone, which is part of the commit's ID
	}
	return s
}

// createGitCommit serves POST /repos/{owner}/{repo}/git/commits.
func createGitCommit(e *Emulator, c *call) reply {
	r, rep, ok := e.repoForCallLocked(c, true)
	if !ok {
		return rep
	}
	var in struct {
		Message   string    `json:"message"`
		Tree      string    `json:"tree"`
		Parents   []string  `json:"parents"`
		Author    *identity `json:"author"`
		Committer *identity `json:"committer"`
	}
	if err := json.Unmarshal(c.body, &in); err != nil {
		return errorReply(http.StatusBadRequest, "Problems parsing JSON")
	}
	files, ok := e.st.trees[strings.ToLower(in.Tree)]
	if !ok {
		return errorReply(http.StatusUnprocessableEntity, "Tree SHA does not exist")
	}
	parents := make([]string, len(in.Parents))
	for i, p := range in.Parents {
		parents[i] = strings.ToLower(p)
		if _, ok := e.st.commits[parents[i]]; !ok {
			return errorReply(http.StatusUnprocessableEntity, "Parent SHA does not exist or is not a commit object")
		}
	}
	author := e.signatureOf(in.Author, e.appSignature())
	committer := e.signatureOf(in.Committer, author)
	cm := e.storeAPICommitLocked(files, parents, in.Message, author, committer)
	e.changedLocked()
	o := e.gitCommitJSON(r, cm)
	return reply{status: http.StatusCreated, body: o, header: http.Header{"Location": {o["url"].(string)}}}
}

// getGitCommit serves GET /repos/{owner}/{repo}/git/commits/{commit_sha}.
func getGitCommit(e *Emulator, c *call) reply {
	r, rep, ok := e.repoForCallLocked(c, false)
	if !ok {
		return rep
	}
	cm, ok := e.st.commits[strings.ToLower(c.param("commit_sha"))]
	if !ok {
		return notFound()
	}
	return jsonReply(http.StatusOK, e.gitCommitJSON(r, cm))
}

func (e *Emulator) gitCommitJSON(r *repo, cm *commit) obj {
	who := func(s signature) obj { return obj{"name": s.name, "email": s.email, "date": ts(s.at)} }
	parents := []obj{}
	for _, p := range cm.parents {
		parents = append(parents, obj{"sha": p, "url": e.gitURL(r, "commits", p), "html_url": htmlBase + "/" + r.fullName() + "/commit/" + p})
	}
	return obj{
		"sha": cm.sha, "node_id": gitNodeID("Commit", r, cm.sha), "url": e.gitURL(r, "commits", cm.sha),
		"html_url": htmlBase + "/" + r.fullName() + "/commit/" + cm.sha,
		"author":   who(cm.author), "committer": who(cm.committer), "message": cm.message,
		"tree":    obj{"sha": cm.treeSHA, "url": e.gitURL(r, "trees", cm.treeSHA)},
		"parents": parents,
		"verification": obj{
			"verified": false, "reason": "unsigned", "signature": nil, "payload": nil, "verified_at": nil,
		},
	}
}
