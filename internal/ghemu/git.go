package ghemu

import (
	"bytes"
	"cmp"
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
	sha       string
	treeSHA   string
	parents   []string
	message   string
	author    signature
	committer signature
	tree      map[string][]byte // path -> content; every file is a 100644 blob
}

// signature is the author or committer of a commit.
type signature struct {
	name, email string
	at          time.Time
}

// userSignature is how GitHub signs a commit made by login on the web.
func (e *Emulator) userSignature(login string) signature {
	return signature{name: login, email: fmt.Sprintf("%d+%s@users.noreply.github.com", userID(login), login), at: e.timestamp()}
}

// blobSHA is Git's object ID of a file with this content.
func blobSHA(content []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(content))
	h.Write(content)
	return hex.EncodeToString(h.Sum(nil))
}

// hashTree is Git's object ID of the tree holding files (paths relative to
// the tree, all mode 100644). visit, unless nil, is called for the tree and
// every subtree with the files below it.
func hashTree(files map[string][]byte, visit func(id string, files map[string][]byte)) string {
	type entry struct {
		key, name, mode, id string
	}
	var entries []entry
	subdirs := map[string]map[string][]byte{}
	for p, content := range files {
		if dir, rest, ok := strings.Cut(p, "/"); ok {
			if subdirs[dir] == nil {
				subdirs[dir] = map[string][]byte{}
			}
			subdirs[dir][rest] = content
			continue
		}
		entries = append(entries, entry{key: p, name: p, mode: "100644", id: blobSHA(content)})
	}
	for dir, sub := range subdirs {
		// Git orders a subtree as if its name ended in a slash.
		entries = append(entries, entry{key: dir + "/", name: dir, mode: "40000", id: hashTree(sub, visit)})
	}
	slices.SortFunc(entries, func(a, b entry) int { return cmp.Compare(a.key, b.key) })
	var body bytes.Buffer
	for _, en := range entries {
		raw, _ := hex.DecodeString(en.id)
		fmt.Fprintf(&body, "%s %s\x00", en.mode, en.name)
		body.Write(raw)
	}
	h := sha1.New()
	fmt.Fprintf(h, "tree %d\x00", body.Len())
	h.Write(body.Bytes())
	id := hex.EncodeToString(h.Sum(nil))
	if visit != nil {
		visit(id, files)
	}
	return id
}

// commitSHA is deterministic: the same tree, parents and message give the
// same SHA, like Git without authors and timestamps. A bot that makes the
// same commit twice gets the same commit back.
func commitSHA(tree string, parents []string, message string) string {
	h := sha1.New()
	fmt.Fprintf(h, "tree %s\n", tree)
	for _, p := range parents {
		fmt.Fprintf(h, "parent %s\n", p)
	}
	fmt.Fprintf(h, "\n%s", message)
	return hex.EncodeToString(h.Sum(nil))
}

// storeTreeLocked records a tree, its subtrees and its blobs, so that the
// Git Data API can serve them, and returns the tree's ID.
func (e *Emulator) storeTreeLocked(files map[string][]byte) string {
	for _, content := range files {
		e.st.blobs[blobSHA(content)] = content
	}
	return hashTree(files, func(id string, sub map[string][]byte) {
		if _, ok := e.st.trees[id]; !ok {
			e.st.trees[id] = sub
		}
	})
}

// storeCommitLocked records a commit of tree on top of parents. A commit
// with the same tree, parents and message exists already: that one is
// returned.
func (e *Emulator) storeCommitLocked(tree map[string][]byte, parents []string, message string, author, committer signature) *commit {
	treeID := e.storeTreeLocked(tree)
	sha := commitSHA(treeID, parents, message)
	if old, ok := e.st.commits[sha]; ok {
		return old
	}
	c := &commit{
		sha: sha, treeSHA: treeID, parents: slices.Clone(parents), message: message,
		author: author, committer: committer, tree: tree,
	}
	e.st.commits[sha] = c
	return c
}

// commitLocked records a commit of files on top of parent ("" for none) by
// the user author.
func (e *Emulator) commitLocked(parent string, files map[string]string, message, author string) *commit {
	tree := map[string][]byte{}
	var parents []string
	if p := e.st.commits[parent]; p != nil {
		maps.Copy(tree, p.tree)
		parents = []string{parent}
	}
	for path, content := range files {
		path = strings.Trim(path, "/")
		if content == Deleted {
			delete(tree, path)
			continue
		}
		tree[path] = []byte(content)
	}
	sig := e.userSignature(author)
	return e.storeCommitLocked(tree, parents, message, sig, sig)
}

// isAncestorLocked reports whether commit anc is desc or one of its
// ancestors.
func (e *Emulator) isAncestorLocked(anc, desc string) bool {
	seen := map[string]bool{}
	queue := []string{desc}
	for len(queue) > 0 {
		sha := queue[0]
		queue = queue[1:]
		if sha == anc {
			return true
		}
		if seen[sha] {
			continue
		}
		seen[sha] = true
		if c := e.st.commits[sha]; c != nil {
			queue = append(queue, c.parents...)
		}
	}
	return false
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
