package ghemu

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Deleted, as a file's content in Commit or Push, removes the file.
const Deleted = "\x00ghemu:deleted\x00"

// commit is a commit holding its whole tree. Trees are never modified once
// built, so commits share file contents freely.
type commit struct {
	sha     string
	treeSHA string
	parent  string
	message string
	author  string
	at      time.Time
	tree    map[string][]byte
}

// blobSHA is Git's object ID of a file with this content.
func blobSHA(content []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(content))
	h.Write(content)
	return hex.EncodeToString(h.Sum(nil))
}

// treeSHA and commitSHA are deterministic: the same files, parent and
// message give the same SHA, like Git without timestamps.
func treeSHA(tree map[string][]byte) string {
	h := sha1.New()
	for _, path := range slices.Sorted(maps.Keys(tree)) {
		fmt.Fprintf(h, "%s\x00%s\n", path, blobSHA(tree[path]))
	}
	return hex.EncodeToString(h.Sum(nil))
}

func commitSHA(tree, parent, message string) string {
	h := sha1.New()
	fmt.Fprintf(h, "tree %s\nparent %s\n\n%s", tree, parent, message)
	return hex.EncodeToString(h.Sum(nil))
}

// commitLocked records a commit of files on top of parent ("" for none).
func (e *Emulator) commitLocked(parent string, files map[string]string, message, author string) *commit {
	tree := map[string][]byte{}
	if p := e.st.commits[parent]; p != nil {
		maps.Copy(tree, p.tree)
	}
	for path, content := range files {
		path = strings.Trim(path, "/")
		if content == Deleted {
			delete(tree, path)
			continue
		}
		tree[path] = []byte(content)
	}
	c := &commit{parent: parent, message: message, author: author, at: e.timestamp(), tree: tree}
	c.treeSHA = treeSHA(tree)
	c.sha = commitSHA(c.treeSHA, parent, message)
	if old, ok := e.st.commits[c.sha]; ok {
		return old
	}
	e.st.commits[c.sha] = c
	return c
}

// resolveLocked finds the commit a ref names in r: "" (the default
// branch), a full commit SHA, a branch ("main", "heads/main",
// "refs/heads/main") or a pull request ref ("refs/pull/3/head").
func (e *Emulator) resolveLocked(r *repo, ref string) (*commit, bool) {
	if ref == "" {
		ref = r.defaultBranch
	}
	if len(ref) == 40 {
		if c, ok := e.st.commits[strings.ToLower(ref)]; ok {
			return c, true
		}
	}
	if rest, ok := strings.CutPrefix(ref, "refs/pull/"); ok {
		num, kind, _ := strings.Cut(rest, "/")
		n, err := strconv.Atoi(num)
		if p := r.pulls[n]; err == nil && p != nil && kind == "head" {
			return e.st.commits[p.headSHA()], true
		}
		return nil, false
	}
	branch := strings.TrimPrefix(strings.TrimPrefix(ref, "refs/"), "heads/")
	if sha, ok := r.branches[branch]; ok {
		return e.st.commits[sha], true
	}
	return nil, false
}

// branchOfLocked names a branch of r that points at sha, preferring the
// default branch, or "".
func branchOfLocked(r *repo, sha string) string {
	if r.branches[r.defaultBranch] == sha {
		return r.defaultBranch
	}
	for _, b := range slices.Sorted(maps.Keys(r.branches)) {
		if r.branches[b] == sha {
			return b
		}
	}
	return ""
}
