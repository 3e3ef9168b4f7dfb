package ghemu

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Who exists and who may do what: users, repository roles, teams.
//
// A login exists once a helper has seen it (AddUser, AddInstallation,
// CreateRepo, OpenPR, Comment, SetPermission, AddTeamMember, ...). A login
// ending in "[bot]" is a Bot account, like "dependabot[bot]"; the app's own
// is AppLogin.

// AppLogin is the login of the app's bot user: what GitHub shows as the
// author of the comments, pull requests and commits the app makes.
const AppLogin = appSlug + "[bot]"

// Repository roles, weakest first, and the legacy permission GitHub's
// permission API reports for each.
var roles = []string{"read", "triage", "write", "maintain", "admin"}

var legacyPermission = map[string]string{
	"read": "read", "triage": "read", "write": "write", "maintain": "write", "admin": "admin",
}

// team is a team of an organisation.
type team struct {
	id      int64
	org     string
	slug    string
	members map[string]string // lower-case login -> login
	invited map[string]string // pending members: invited, not yet joined
}

// AddUser makes login an existing GitHub user, with no role on any
// repository.
func (e *Emulator) AddUser(login string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.knowLocked(login)
	e.changedLocked()
}

// knowLocked records logins as existing users.
func (e *Emulator) knowLocked(logins ...string) {
	for _, l := range logins {
		if l != "" {
			e.st.users[strings.ToLower(l)] = l
		}
	}
}

// SetPermission gives user a role on the repository: admin, maintain,
// write, triage or read; "none" (or "") takes it away. The owner is always
// admin.
func (r *Repo) SetPermission(user, role string) {
	if role != "" && role != "none" && !slices.Contains(roles, role) {
		panic(fmt.Sprintf("ghemu: SetPermission: role %q is not one of %s or none", role, strings.Join(roles, ", ")))
	}
	e := r.e
	e.mu.Lock()
	defer e.mu.Unlock()
	rp := r.repoLocked()
	e.knowLocked(user)
	if role == "" || role == "none" {
		delete(rp.roles, strings.ToLower(user))
	} else {
		rp.roles[strings.ToLower(user)] = role
	}
	e.changedLocked()
}

// roleOf is login's role on r, or "" for none.
func roleOf(r *repo, login string) string {
	if strings.EqualFold(login, r.owner) {
		return "admin"
	}
	return r.roles[strings.ToLower(login)]
}

// association is the author_association GitHub shows for login on r.
func association(r *repo, login string) string {
	switch {
	case strings.EqualFold(login, r.owner):
		return "OWNER"
	case r.roles[strings.ToLower(login)] != "":
		return "COLLABORATOR"
	}
	return "NONE"
}

// AddTeamMember makes user an active member of the team slug of
// organisation org, creating the team if needed.
func (e *Emulator) AddTeamMember(org, slug, user string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	t := e.ensureTeamLocked(org, slug, user)
	delete(t.invited, strings.ToLower(user))
	t.members[strings.ToLower(user)] = user
	e.changedLocked()
}

// InviteTeamMember invites user to the team, creating it if needed: until
// they accept (AddTeamMember), their membership is "pending", which
// GitHub reports but which grants nothing.
func (e *Emulator) InviteTeamMember(org, slug, user string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	t := e.ensureTeamLocked(org, slug, user)
	if t.members[strings.ToLower(user)] == "" {
		t.invited[strings.ToLower(user)] = user
	}
	e.changedLocked()
}

func (e *Emulator) ensureTeamLocked(org, slug, user string) *team {
	e.knowLocked(org, user)
	t := e.teamLocked(org, slug)
	if t == nil {
		e.st.nextTeamID++
		t = &team{id: e.st.nextTeamID, org: org, slug: slug, members: map[string]string{}, invited: map[string]string{}}
		e.st.teams[strings.ToLower(org+"/"+slug)] = t
	}
	return t
}

// RemoveTeamMember takes user out of the team, or withdraws their
// invitation.
func (e *Emulator) RemoveTeamMember(org, slug, user string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if t := e.teamLocked(org, slug); t != nil {
		delete(t.members, strings.ToLower(user))
		delete(t.invited, strings.ToLower(user))
	}
	e.changedLocked()
}

// TeamMembers lists the members of a team, sorted.
func (e *Emulator) TeamMembers(org, slug string) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	t := e.teamLocked(org, slug)
	if t == nil {
		return nil
	}
	return slices.Sorted(maps.Values(t.members))
}

func (e *Emulator) teamLocked(org, slug string) *team {
	return e.st.teams[strings.ToLower(org+"/"+slug)]
}

// getCollaboratorPermission serves
// GET /repos/{owner}/{repo}/collaborators/{username}/permission.
func getCollaboratorPermission(e *Emulator, c *call) reply {
	r, rep, ok := e.repoForCallLocked(c, false)
	if !ok {
		return rep
	}
	login, ok := e.st.users[strings.ToLower(c.param("username"))]
	if !ok {
		return errorReply(http.StatusNotFound, c.param("username")+" is not a user")
	}
	role := roleOf(r, login)
	permission := legacyPermission[role]
	if role == "" {
		// Anyone may read a public repository.
		role, permission = "none", "none"
		if !r.private {
			role, permission = "read", "read"
		}
	}
	user := e.userJSON(login)
	user["role_name"] = role
	rank := slices.Index(roles, role)
	user["permissions"] = obj{
		"pull": rank >= 0, "triage": rank >= 1, "push": rank >= 2, "maintain": rank >= 3, "admin": rank >= 4,
	}
	return jsonReply(http.StatusOK, obj{"permission": permission, "role_name": role, "user": user})
}

// getTeamMembership serves
// GET /orgs/{org}/teams/{team_slug}/memberships/{username}. An
// installation sees the teams of its own account only.
func getTeamMembership(e *Emulator, c *call) reply {
	org := c.param("org")
	t := e.teamLocked(org, c.param("team_slug"))
	if t == nil || c.inst == nil || !strings.EqualFold(c.inst.Account, org) {
		return notFound()
	}
	user := strings.ToLower(c.param("username"))
	login, state := t.members[user], "active"
	if login == "" {
		login, state = t.invited[user], "pending"
	}
	if login == "" {
		return notFound()
	}
	return jsonReply(http.StatusOK, obj{
		"url":  fmt.Sprintf("%s/organizations/%d/team/%d/memberships/%s", e.url, userID(t.org), t.id, login),
		"role": "member", "state": state,
	})
}

// getUser serves GET /users/{username}: a user's public profile. The app's
// bot user exists from the start, as it does once an app is registered.
func getUser(e *Emulator, c *call) reply {
	login, ok := e.st.users[strings.ToLower(c.param("username"))]
	if !ok && strings.EqualFold(c.param("username"), AppLogin) {
		login, ok = AppLogin, true
	}
	if !ok {
		return notFound()
	}
	publicRepos := 0
	for _, r := range e.st.repos {
		if strings.EqualFold(r.owner, login) && !r.private {
			publicRepos++
		}
	}
	joined := ts(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	o := e.userJSON(login)
	maps.Copy(o, obj{
		"name": nil, "company": nil, "blog": "", "location": nil, "email": nil, "hireable": nil, "bio": nil,
		"twitter_username": nil, "public_repos": publicRepos, "public_gists": 0, "followers": 0, "following": 0,
		"created_at": joined, "updated_at": joined,
	})
	return jsonReply(http.StatusOK, o)
}

// UserID is the ID GitHub gives login, and whether the user exists. A
// user's commits are theirs when the email is ID+login@users.noreply.github.com.
func (e *Emulator) UserID(login string) (int64, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	l, ok := e.st.users[strings.ToLower(login)]
	if !ok && strings.EqualFold(login, AppLogin) {
		l, ok = AppLogin, true
	}
	return userID(l), ok
}
