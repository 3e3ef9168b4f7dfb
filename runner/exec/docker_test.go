package exec

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fakeDockerOnPath puts the test binary first on PATH under the name docker
// and returns the directory where it keeps its records.
func fakeDockerOnPath(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Symlink(testExe(), filepath.Join(dir, "docker")); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("GORACE", "atexit_sleep_ms=0")
	return dir
}

func dockerCalls(t *testing.T, dir string) [][]string {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "calls.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var calls [][]string
	s := bufio.NewScanner(f)
	for s.Scan() {
		var args []string
		if err := json.Unmarshal(s.Bytes(), &args); err != nil {
			t.Fatal(err)
		}
		calls = append(calls, args)
	}
	return calls
}

func setFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func newTestDocker(t *testing.T, cfg DockerConfig, opts ...Option) *Docker {
	t.Helper()
	dir := t.TempDir()
	d, err := NewDocker(dir, cfg, append([]Option{testSupervisor()}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	cancelJobsAtCleanup(t, d, dir)
	return d
}

const digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestDockerRunsTheJobInALockedDownContainer(t *testing.T) {
	fake := fakeDockerOnPath(t)
	setFile(t, filepath.Join(fake, "run.exit"), "3")
	ctx := testContext(t)
	d := newTestDocker(t, DockerConfig{
		Images: map[string]string{"python:v2": "ghcr.io/opensafely-core/python@" + digest},
		CPUs:   "2", Memory: "4g", User: "1000:1000",
	})
	work := t.TempDir()
	spec := Spec{
		JobID: "j1", Image: "python:v2", Args: []string{"python", "analysis/model.py", "--config", `{"a": 1}`},
		Workdir: work, Env: map[string]string{"OPENSAFELY_BACKEND": "tpp", "TZ": "UTC"},
	}
	if err := d.Start(ctx, spec); err != nil {
		t.Fatal(err)
	}
	st, err := d.Wait(ctx, "j1")
	if err != nil {
		t.Fatal(err)
	}
	if st != (Status{State: StateExited, ExitCode: 3}) {
		t.Errorf("status = %+v, want exit 3", st)
	}
	envPath := filepath.Join(d.dir("j1"), envFile)
	want := [][]string{{
		"run", "--rm", "--name", "fivesafes-job-j1", "--network", "none", "--cap-drop", "ALL",
		"--security-opt", "no-new-privileges", "--pull=never", "--cpus", "2", "--memory", "4g",
		"--user", "1000:1000", "-v", work + ":/workspace", "-w", "/workspace", "--label", "fivesafes.job=j1",
		"--env-file", envPath,
		"ghcr.io/opensafely-core/python@" + digest, "python", "analysis/model.py", "--config", `{"a": 1}`,
	}}
	if got := dockerCalls(t, fake); !reflect.DeepEqual(got, want) {
		t.Errorf("docker calls:\n got %q\nwant %q", got, want)
	}
	if got := readLog(t, envPath); got != "OPENSAFELY_BACKEND=tpp\nTZ=UTC\n" {
		t.Errorf("env file = %q", got)
	}
	if got := readLog(t, filepath.Join(d.dir("j1"), jobLogFile)); got != "output of the container\n" {
		t.Errorf("log = %q", got)
	}
}

func TestDockerImageReference(t *testing.T) {
	d := newTestDocker(t, DockerConfig{
		Registry: "ghcr.io/opensafely-core/",
		Images: map[string]string{
			"python:v2": "ghcr.io/opensafely-core/python@" + digest,
			"r":         "registry.internal/r",
			"ehrql":     "registry.internal/ehrql@" + digest,
		},
	})
	cases := map[string]string{
		"python:v2":     "ghcr.io/opensafely-core/python@" + digest, // exact key, pinned
		"python:v1":     "ghcr.io/opensafely-core/python:v1",        // registry
		"r:latest":      "registry.internal/r:latest",               // name key, tag appended
		"ehrql:v1":      "registry.internal/ehrql@" + digest,        // name key with a digest
		"--privileged":  `error: image "--privileged" has no tag (want NAME:TAG, e.g. python:v2)`,
		"-x:v1":         `error: image "-x:v1": "-x" is not a valid image name`,
		"python:-v1":    `error: image "python:-v1": "-v1" is not a valid tag`,
		"Python:v1":     `error: image "Python:v1": "Python" is not a valid image name`,
		"evil/../x:v1":  `error: image "evil/../x:v1": "evil/../x" is not a valid image name`,
		"python:v2 --x": `error: image "python:v2 --x": "v2 --x" is not a valid tag`,
	}
	for image, want := range cases {
		got, err := d.imageRef(image)
		if err != nil {
			got = "error: " + err.Error()
		}
		if got != want {
			t.Errorf("imageRef(%q) = %q, want %q", image, got, want)
		}
	}
	noRegistry := newTestDocker(t, DockerConfig{Images: map[string]string{"python": "ghcr.io/opensafely-core/python"}})
	_, err := noRegistry.imageRef("stata-mp:latest")
	want := "image stata-mp:latest is not configured for the docker executor (configured: python); set executors.docker.images.stata-mp or executors.docker.registry"
	if err == nil || err.Error() != want {
		t.Errorf("unconfigured image: %v\nwant: %s", err, want)
	}
}

func TestDockerTimeoutAndCancelStopTheContainer(t *testing.T) {
	fake := fakeDockerOnPath(t)
	setFile(t, filepath.Join(fake, "run.block"), "")
	ctx := testContext(t)
	d := newTestDocker(t, DockerConfig{Registry: "ghcr.io/opensafely-core"}, WithKillGrace(1500*time.Millisecond))
	work := t.TempDir()
	if err := d.Start(ctx, Spec{JobID: "slow", Image: "python:v2", Workdir: work, Timeout: 200 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	if err := d.Start(ctx, Spec{JobID: "unwanted", Image: "python:v2", Workdir: work}); err != nil {
		t.Fatal(err)
	}
	if err := d.Cancel(ctx, "unwanted"); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]Status{
		"slow":     {State: StateExited, ExitCode: 143, TimedOut: true},
		"unwanted": {State: StateExited, ExitCode: 143, Cancelled: true},
	} {
		st, err := d.Wait(ctx, id)
		if err != nil || st != want {
			t.Errorf("%s: %+v, %v; want %+v", id, st, err, want)
		}
	}
	calls := dockerCalls(t, fake)
	for _, name := range []string{"fivesafes-job-slow", "fivesafes-job-unwanted"} {
		if !slices.ContainsFunc(calls, func(c []string) bool { return slices.Equal(c, []string{"stop", "-t", "2", name}) }) {
			t.Errorf("no docker stop -t 2 %s in %q", name, calls)
		}
	}
}

func TestDockerLostJobKillsItsContainer(t *testing.T) {
	fake := fakeDockerOnPath(t)
	setFile(t, filepath.Join(fake, "inspect.out"), "running\n")
	ctx := testContext(t)
	d := newTestDocker(t, DockerConfig{Registry: "ghcr.io/opensafely-core"})
	// A job whose supervisor died with the machine: its PID now belongs to
	// someone else.
	if err := os.Mkdir(d.dir("orphan"), 0o700); err != nil {
		t.Fatal(err)
	}
	setFile(t, filepath.Join(d.dir("orphan"), pidFile), strconv.Itoa(os.Getpid())+" 1\n")
	st, err := d.Status(ctx, "orphan")
	if err != nil {
		t.Fatal(err)
	}
	if st.State != StateLost || !strings.Contains(st.Detail, "container fivesafes-job-orphan is still running") {
		t.Errorf("status = %+v", st)
	}
	if err := d.Cancel(ctx, "orphan"); err != nil {
		t.Fatal(err)
	}
	if err := d.Cleanup(ctx, "orphan"); err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"inspect", "--format", "{{.State.Status}}", "fivesafes-job-orphan"},
		{"kill", "fivesafes-job-orphan"},
		{"rm", "--force", "fivesafes-job-orphan"},
	}
	if got := dockerCalls(t, fake); !reflect.DeepEqual(got, want) {
		t.Errorf("docker calls:\n got %q\nwant %q", got, want)
	}
}

func TestDockerConfigurationErrors(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	ctx := testContext(t)
	d := newTestDocker(t, DockerConfig{Registry: "ghcr.io/opensafely-core"})
	err := d.Start(ctx, Spec{JobID: "a", Image: "python:v2", Workdir: t.TempDir()})
	want := "the docker executor needs the docker CLI, and docker is not installed on this agent (set executors.docker.binary)"
	if err == nil || err.Error() != want {
		t.Errorf("Start without docker: %v\nwant: %s", err, want)
	}
	for cfg, want := range map[*DockerConfig]string{
		{CPUs: "two"}:                          `executors.docker.cpus: "two" is not a number of CPUs`,
		{Memory: "4 GB"}:                       `executors.docker.memory: "4 GB" is not a size such as 4g`,
		{User: "root"}:                         `executors.docker.user: "root" is not UID or UID:GID`,
		{Images: map[string]string{"r": "-x"}}: `executors.docker.images.r: "-x" is not an image reference`,
	} {
		if _, err := NewDocker(t.TempDir(), *cfg); err == nil || err.Error() != want {
			t.Errorf("NewDocker(%+v): %v, want %s", *cfg, err, want)
		}
	}
}
