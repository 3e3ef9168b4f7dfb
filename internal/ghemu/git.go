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

// GitCommit is a snapshot of a commit.
type GitCommit struct {
	SHA               string
	Tree              string // the tree's ID
	Parents           []string
	Message           string
	Author, Committer Signature
	Files             map[string]string // path -> content, the whole tree
}

// Signature is the author or committer of a commit.
type Signature struct {
	Name, Email string
	Date        time.Time // in the time zone the commit records
}

// GitCommit returns the commit sha, on a branch or not.
func (e *Emulator) GitCommit(sha string) (GitCommit, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	c, ok := e.st.commits[strings.ToLower(sha)]
	if !ok {
		return GitCommit{}, false
	}
	files := make(map[string]string, len(c.tree))
	for p, content := range c.tree {
		files[p] = string(content)
	}
	sig := func(s signature) Signature { return Signature{Name: s.name, Email: s.email, Date: s.at} }
	return GitCommit{
		SHA: c.sha, Tree: c.treeSHA, Parents: slices.Clone(c.parents), Message: c.message,
		Author: sig(c.author), Committer: sig(c.committer), Files: files,
	}, true
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

// gitCommitSHA is Git's object ID of a commit, as `git hash-object -t
// commit` computes it: the author and committer, with their dates and time
// zones, are part of it.
func gitCommitSHA(tree string, parents []string, author, committer signature, message string) string {
	var body bytes.Buffer
	fmt.Fprintf(&body, "tree %s\n", tree)
	for _, p := range parents {
		fmt.Fprintf(&body, "parent %s\n", p)
	}
	fmt.Fprintf(&body, "author %s\ncommitter %s\n\n%s", author.git(), committer.git(), message)
	h := sha1.New()
	fmt.Fprintf(h, "commit %d\x00", body.Len())
	h.Write(body.Bytes())
	return hex.EncodeToString(h.Sum(nil))
}

// git is the signature as a commit object holds it.
func (s signature) git() string {
	return fmt.Sprintf("%s <%s> %d %s", s.name, s.email, s.at.Unix(), s.at.Format("-0700"))
}

// storeCommitLocked records a commit of tree on top of parents that a
// helper made: its ID is commitSHA's, so that a helper repeated makes the
// same commit. A commit with the same tree, parents and message exists
// already: that one is returned.
func (e *Emulator) storeCommitLocked(tree map[string][]byte, parents []string, message string, author, committer signature) *commit {
	treeID := e.storeTreeLocked(tree)
	return e.keepCommitLocked(commitSHA(treeID, parents, message), treeID, tree, parents, message, author, committer)
}

// storeAPICommitLocked records a commit made through the REST API. Like
// GitHub's, its ID is Git's (gitCommitSHA): the same request made twice
// makes the same commit only if it dates the author and committer, for
// GitHub dates them now otherwise.
func (e *Emulator) storeAPICommitLocked(tree map[string][]byte, parents []string, message string, author, committer signature) *commit {
	treeID := e.storeTreeLocked(tree)
	return e.keepCommitLocked(gitCommitSHA(treeID, parents, author, committer, message), treeID, tree, parents, message, author, committer)
}

func (e *Emulator) keepCommitLocked(sha, treeID string, tree map[string][]byte, parents []string, message string, author, committer signature) *commit {
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
