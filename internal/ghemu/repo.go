package ghemu

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Repo is a handle on a repository of the emulator. Its methods act like a
// person using GitHub: committing, pushing, opening pull requests; those
// that GitHub would announce send the webhooks and return once the bot has
// answered them.
type Repo struct {
	e     *Emulator
	ID    int64
	Owner string
	Name  string
}

// FullName is "owner/name".
func (r *Repo) FullName() string { return r.Owner + "/" + r.Name }

// RepoOption configures a repository made by CreateRepo.
type RepoOption func(*repo)

// Private makes the repository private.
func Private() RepoOption { return func(r *repo) { r.private = true } }

// DefaultBranch names the default branch (main unless set).
func DefaultBranch(name string) RepoOption { return func(r *repo) { r.defaultBranch = name } }

// AddInstallation installs the app on an account: its token may then act
// on the account's repositories, and their events are delivered to the app.
func (e *Emulator) AddInstallation(id int64, account string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.st.installations[id] = &Installation{ID: id, Account: account}
	e.knowLocked(account)
	e.changedLocked()
}

// CreateRepo creates owner/name with an initial commit (a README) on its
// default branch. It panics if the repository exists.
func (e *Emulator) CreateRepo(owner, name string, opts ...RepoOption) *Repo {
	e.mu.Lock()
	defer e.mu.Unlock()
	r := e.createRepoLocked(owner, name, nil)
	for _, o := range opts {
		o(r)
	}
	c := e.commitLocked("", map[string]string{"README.md": "# " + name + "\n"}, "Initial commit", owner)
	r.branches[r.defaultBranch] = c.sha
	e.changedLocked()
	return e.handle(r)
}

func (e *Emulator) createRepoLocked(owner, name string, parent *repo) *repo {
	key := repoKey(owner + "/" + name)
	if _, ok := e.st.repos[key]; ok {
		panic(fmt.Sprintf("ghemu: repository %s/%s already exists", owner, name))
	}
	e.st.nextRepoID++
	e.knowLocked(owner)
	now := e.timestamp()
	r := &repo{
		id: e.st.nextRepoID, owner: owner, name: name, defaultBranch: "main", parent: parent,
		branches: map[string]string{}, pulls: map[int]*pull{}, issues: map[int]*issue{}, roles: map[string]string{},
		createdAt: now, pushedAt: now,
	}
	e.st.repos[key] = r
	return r
}

// Repo returns the repository named "owner/name", or nil.
func (e *Emulator) Repo(fullName string) *Repo {
	e.mu.Lock()
	defer e.mu.Unlock()
	r, ok := e.st.repos[repoKey(fullName)]
	if !ok {
		return nil
	}
	return e.handle(r)
}

func (e *Emulator) handle(r *repo) *Repo {
	return &Repo{e: e, ID: r.id, Owner: r.owner, Name: r.name}
}

// repoLocked is the state behind a handle.
func (r *Repo) repoLocked() *repo {
	rp, ok := r.e.st.repos[repoKey(r.FullName())]
	if !ok {
		panic(fmt.Sprintf("ghemu: no repository %s", r.FullName()))
	}
	return rp
}

// Fork makes owner's fork of the repository, with the same branches.
func (r *Repo) Fork(owner string) *Repo {
	e := r.e
	e.mu.Lock()
	defer e.mu.Unlock()
	parent := r.repoLocked()
	f := e.createRepoLocked(owner, parent.name, parent)
	f.defaultBranch = parent.defaultBranch
	f.private = parent.private
	f.branches = maps.Clone(parent.branches)
	e.changedLocked()
	return e.handle(f)
}

// Commit commits files to branch without telling anyone (no webhooks) and
// returns the new commit's SHA. A file whose content is Deleted is removed.
// A missing branch is created from the default branch.
func (r *Repo) Commit(branch string, files map[string]string, message string) string {
	e := r.e
	e.mu.Lock()
	defer e.mu.Unlock()
	rp := r.repoLocked()
	sha, _ := e.commitToBranchLocked(rp, branch, files, message)
	e.changedLocked()
	return sha
}

func (e *Emulator) commitToBranchLocked(rp *repo, branch string, files map[string]string, message string) (sha, before string) {
	before = rp.branches[branch]
	parent := before
	if parent == "" {
		parent = rp.branches[rp.defaultBranch]
	}
	c := e.commitLocked(parent, files, message, rp.owner)
	rp.branches[branch] = c.sha
	rp.pushedAt = e.timestamp()
	return c.sha, before
}

// Push commits files to branch as a push would and sends what GitHub sends
// for it: pull_request synchronize for every open pull request whose head
// is that branch, then check_suite requested for the new commit.
func (r *Repo) Push(branch string, files map[string]string) (sha string) {
	return r.PushAs(branch, "", files)
}

// PushAs is Push by user (who is the sender of the events it sends);
// "" is each pull request's author, as Push.
func (r *Repo) PushAs(branch, user string, files map[string]string) (sha string) {
	e := r.e
	e.act(func() []outgoing {
		rp := r.repoLocked()
		before := rp.branches[branch]
		parent := cmp.Or(before, rp.branches[rp.defaultBranch])
		sha = e.commitLocked(parent, files, "Update "+branch, cmp.Or(user, rp.owner)).sha
		if user != "" {
			e.knowLocked(user)
		}
		return e.movedLocked(rp, branch, before, sha, user)
	})
	return sha
}

// Head is the SHA branch points at, or "".
func (r *Repo) Head(branch string) string {
	r.e.mu.Lock()
	defer r.e.mu.Unlock()
	return r.repoLocked().branches[branch]
}

// File is the content of path at ref (a branch or SHA; "" is the default
// branch).
func (r *Repo) File(ref, path string) (string, bool) {
	e := r.e
	e.mu.Lock()
	defer e.mu.Unlock()
	c, ok := e.resolveLocked(r.repoLocked(), ref)
	if !ok {
		return "", false
	}
	b, ok := c.tree[path]
	return string(b), ok
}

// reposLocked lists the repositories in creation order.
func (e *Emulator) reposLocked() []*repo {
	out := slices.Collect(maps.Values(e.st.repos))
	slices.SortFunc(out, func(a, b *repo) int { return cmp.Compare(a.id, b.id) })
	return out
}

// installationLocked is the app's installation on r's owner, or nil.
func (e *Emulator) installationLocked(r *repo) *Installation {
	for _, in := range e.st.installations {
		if strings.EqualFold(in.Account, r.owner) {
			return in
		}
	}
	return nil
}
