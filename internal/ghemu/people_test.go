package ghemu_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/google/go-github/v88/github"

	"github.com/fivesafes/fivesafes/internal/ghemu"
)

func TestCollaboratorPermissions(t *testing.T) {
	emu, repo := start(t)
	gh := client(t, emu)
	emu.CreateRepo("ana", "secret", ghemu.Private())
	for role, user := range map[string]string{"admin": "amy", "maintain": "mo", "write": "wes", "triage": "tri", "read": "rea"} {
		repo.SetPermission(user, role)
	}
	repo.SetPermission("gone", "write")
	repo.SetPermission("gone", "none")
	emu.AddUser("stranger")

	cases := map[string]struct {
		repo, user           string
		permission, roleName string
		status               int
	}{
		"the owner":                     {repo: "study", user: "ana", permission: "admin", roleName: "admin"},
		"an admin":                      {repo: "study", user: "amy", permission: "admin", roleName: "admin"},
		"maintain reads as write":       {repo: "study", user: "mo", permission: "write", roleName: "maintain"},
		"write":                         {repo: "study", user: "wes", permission: "write", roleName: "write"},
		"triage reads as read":          {repo: "study", user: "tri", permission: "read", roleName: "triage"},
		"read":                          {repo: "study", user: "rea", permission: "read", roleName: "read"},
		"a role taken away":             {repo: "study", user: "gone", permission: "read", roleName: "read"},
		"a stranger on a public repo":   {repo: "study", user: "stranger", permission: "read", roleName: "read"},
		"a stranger on a private repo":  {repo: "secret", user: "stranger", permission: "none", roleName: "none"},
		"a login nobody has":            {repo: "study", user: "nobody", status: http.StatusNotFound},
		"logins are not case-sensitive": {repo: "study", user: "WES", permission: "write", roleName: "write"},
		"the owner of the private repo": {repo: "secret", user: "ana", permission: "admin", roleName: "admin"},
		"a maintainer of another repo":  {repo: "secret", user: "mo", permission: "none", roleName: "none"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, _, err := gh.Repositories.GetPermissionLevel(t.Context(), "ana", tc.repo, tc.user)
			if tc.status != 0 {
				if statusOf(err) != tc.status {
					t.Fatalf("got %v, want %d", err, tc.status)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.GetPermission() != tc.permission || got.GetRoleName() != tc.roleName || got.GetUser().GetLogin() == "" {
				t.Errorf("permission %q role %q user %q, want %q %q", got.GetPermission(), got.GetRoleName(), got.GetUser().GetLogin(), tc.permission, tc.roleName)
			}
		})
	}
}

func TestTeamMemberships(t *testing.T) {
	emu, _ := start(t)
	gh := client(t, emu)
	emu.AddTeamMember("ana", "output-checkers", "cat")
	emu.AddTeamMember("ana", "output-checkers", "dan")
	emu.RemoveTeamMember("ana", "output-checkers", "dan")
	emu.AddTeamMember("elsewhere", "output-checkers", "eve")

	m, _, err := gh.Teams.GetTeamMembershipBySlug(t.Context(), "ana", "output-checkers", "cat")
	if err != nil || m.GetState() != "active" || m.GetRole() != "member" {
		t.Fatalf("cat: %+v %v", m, err)
	}
	for name, tc := range map[string]struct{ org, team, user string }{
		"a former member":            {"ana", "output-checkers", "dan"},
		"never a member":             {"ana", "output-checkers", "ben"},
		"no such team":               {"ana", "nope", "cat"},
		"another org's installation": {"elsewhere", "output-checkers", "eve"},
	} {
		if _, _, err := gh.Teams.GetTeamMembershipBySlug(t.Context(), tc.org, tc.team, tc.user); statusOf(err) != http.StatusNotFound {
			t.Errorf("%s: %v, want 404", name, err)
		}
	}
	if got := emu.TeamMembers("ana", "output-checkers"); len(got) != 1 || got[0] != "cat" {
		t.Errorf("members %v", got)
	}
}

func TestAnInvitedTeamMemberIsPending(t *testing.T) {
	emu, repo := start(t)
	gh := client(t, emu)
	emu.InviteTeamMember("ana", "output-checkers", "cat")
	m, _, err := gh.Teams.GetTeamMembershipBySlug(t.Context(), "ana", "output-checkers", "cat")
	if err != nil || m.GetState() != "pending" {
		t.Fatalf("invited: %+v %v, want pending", m, err)
	}
	if got := emu.TeamMembers("ana", "output-checkers"); len(got) != 0 {
		t.Errorf("members %v: an invitation is not a membership", got)
	}
	repo.Commit("feature", map[string]string{"a": "1"}, "a")
	n, _ := repo.OpenPR("feature", "main", "Study", "ana")
	if _, _, err := gh.PullRequests.RequestReviewers(t.Context(), "ana", "study", n, github.ReviewersRequest{Reviewers: []string{"cat"}}); statusOf(err) != http.StatusUnprocessableEntity {
		t.Errorf("review requested from a pending member: %v, want 422 (not a collaborator)", err)
	}
	emu.AddTeamMember("ana", "output-checkers", "cat")
	if m, _, err := gh.Teams.GetTeamMembershipBySlug(t.Context(), "ana", "output-checkers", "cat"); err != nil || m.GetState() != "active" {
		t.Errorf("after joining: %+v %v, want active", m, err)
	}
}

func TestUsersProfiles(t *testing.T) {
	emu, _ := start(t)
	gh := client(t, emu)
	emu.AddUser("ben")
	for login, kind := range map[string]string{"ben": "User", "ana": "User", ghemu.AppLogin: "Bot"} {
		u, _, err := gh.Users.Get(t.Context(), url.PathEscape(login))
		id, known := emu.UserID(login)
		if err != nil || !known || u.GetLogin() != login || u.GetID() != id || u.GetType() != kind {
			t.Errorf("%s: %+v %v; want ID %d (known %v), type %s", login, u, err, id, known, kind)
		}
	}
	if u, _, _ := gh.Users.Get(t.Context(), "ana"); u.GetPublicRepos() != 1 {
		t.Errorf("ana has %d public repositories, want 1", u.GetPublicRepos())
	}
	if _, _, err := gh.Users.Get(t.Context(), "nobody"); statusOf(err) != http.StatusNotFound {
		t.Errorf("a login nobody has: %v, want 404", err)
	}
	if _, known := emu.UserID("nobody"); known {
		t.Error("UserID knows a login nobody has")
	}
}
