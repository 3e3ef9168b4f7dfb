package exec

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	osexec "os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"
)

// SupervisorCommand is the hidden subcommand of the fivesafes binary that
// runs SupervisorMain: `fivesafes agent-supervise ARGS...`.
const SupervisorCommand = "agent-supervise"

// File descriptors the executor hands to a new supervisor.
const (
	goFD  = 3 // one byte from the executor: the pid file is written, go ahead
	ackFD = 4 // one byte back: signals are handled, the job is starting
)

// reapTimeout bounds the wait for a job's leftover processes to disappear.
const reapTimeout = 5 * time.Second

// SupervisorMain is the body of the hidden subcommand. Its arguments are
// either "job DIR" (supervise the job planned in the state directory DIR) or
// "builtin NAME ARGS..." (run a built-in stand-in as a job's process). It
// returns the process exit code.
func SupervisorMain(args []string) int {
	switch {
	case len(args) == 2 && args[0] == "job":
		if err := supervise(args[1]); err != nil {
			fmt.Fprintf(os.Stderr, "fivesafes supervisor: %v\n", err)
			return 1
		}
		return 0
	case len(args) >= 2 && args[0] == "builtin":
		return runBuiltinProcess(args[1], args[2:])
	}
	fmt.Fprintf(os.Stderr, "usage: fivesafes %s job DIR | builtin NAME ARGS...\n", SupervisorCommand)
	return 2
}

// supervise runs the planned job and records how it ended. Once the job has
// started, an exit code is always written, whatever happens to the agent.
func supervise(dir string) error {
	// Cancel arrives as SIGTERM; the agent's terminal is not ours (new
	// session), and a hangup must not take the job down.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	signal.Ignore(syscall.SIGHUP, syscall.SIGPIPE)

	goPipe, ackPipe := os.NewFile(goFD, "go"), os.NewFile(ackFD, "ack")
	if goPipe == nil || ackPipe == nil {
		return errors.New("started without the executor's pipes")
	}
	b := make([]byte, 1)
	if n, _ := goPipe.Read(b); n != 1 {
		// The executor died before it recorded us: nobody could ever
		// find this job, so it must not run.
		return errors.New("the executor went away before the job was recorded; not starting it")
	}
	goPipe.Close()
	p, err := readPlan(dir)
	if err != nil {
		ackPipe.Close()
		return err
	}
	if err := becomeSubreaper(); err != nil {
		fmt.Fprintf(os.Stderr, "fivesafes supervisor: cannot become a subreaper (leftover processes may outlive the job): %v\n", err)
	}
	if _, err := ackPipe.Write([]byte{1}); err != nil {
		return fmt.Errorf("acknowledge start: %w", err)
	}
	ackPipe.Close()

	code, err := run(dir, p, sigs)
	if err != nil {
		fmt.Fprintf(os.Stderr, "fivesafes supervisor: %v\n", err)
	}
	return writeExit(dir, code)
}

// run starts the job and waits for it, stopping it at its timeout or on
// SIGTERM. It returns the job's exit code.
func run(dir string, p plan, sigs <-chan os.Signal) (int, error) {
	logf, err := os.OpenFile(p.LogFile, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return 127, fmt.Errorf("open job log: %w", err)
	}
	defer logf.Close()
	cmd := &osexec.Cmd{
		Path:   p.Argv[0],
		Args:   p.Argv,
		Dir:    p.Dir,
		Env:    p.Env,
		Stdout: logf,
		Stderr: logf,
		// The job leads a process group of its own, so that stopping it
		// reaches everything it started and spares the supervisor.
		SysProcAttr: &syscall.SysProcAttr{Setpgid: true},
	}
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(logf, "fivesafes: could not start the job: %v\n", err)
		return 127, nil
	}
	pgid := cmd.Process.Pid
	if rec, err := recordProcess(pgid); err == nil {
		if err := writeRecord(filepath.Join(dir, childFile), rec); err != nil {
			fmt.Fprintf(os.Stderr, "fivesafes supervisor: record child: %v\n", err)
		}
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()

	var timeout <-chan time.Time
	if p.Timeout > 0 {
		t := time.NewTimer(p.Timeout)
		defer t.Stop()
		timeout = t.C
	}
	s := stopper{dir: dir, p: p, pgid: pgid, log: logf}
	for {
		select {
		case <-waited:
			s.finish()
			return exitCode(cmd.ProcessState), nil
		case <-timeout:
			timeout = nil
			s.stop(timedOutFile, fmt.Sprintf("the job ran for longer than its timeout of %s; stopping it", p.Timeout))
		case <-sigs:
			s.stop(cancelledFile, "the job was cancelled; stopping it")
		case <-s.kill:
			s.kill = nil
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
		}
	}
}

// stopper ends a job: the stop command if any, SIGTERM to the group, and
// SIGKILL after the grace period.
type stopper struct {
	dir      string
	p        plan
	pgid     int
	log      io.Writer
	stopping bool
	kill     <-chan time.Time
	stopDone chan struct{}
}

func (s *stopper) stop(marker, why string) {
	if s.stopping {
		return
	}
	s.stopping = true
	// The first reason wins; markers are final before the exit file.
	if err := mark(s.dir, marker); err != nil {
		fmt.Fprintf(os.Stderr, "fivesafes supervisor: %v\n", err)
	}
	fmt.Fprintf(s.log, "\nfivesafes: %s\n", why)
	if len(s.p.StopArgv) > 0 {
		s.stopDone = make(chan struct{})
		go func() {
			defer close(s.stopDone)
			ctx, cancel := context.WithTimeout(context.Background(), s.p.KillGrace+30*time.Second)
			defer cancel()
			c := osexec.CommandContext(ctx, s.p.StopArgv[0], s.p.StopArgv[1:]...)
			c.Env = s.p.StopEnv
			if out, err := c.CombinedOutput(); err != nil {
				fmt.Fprintf(os.Stderr, "fivesafes supervisor: %v: %v: %s\n", s.p.StopArgv, err, out)
			}
		}()
	}
	_ = syscall.Kill(-s.pgid, syscall.SIGTERM)
	s.kill = time.After(s.p.KillGrace)
}

// finish removes whatever the job left running in its group: a container
// stops all its processes when it ends, and so does a local job.
func (s *stopper) finish() {
	if s.stopDone != nil {
		<-s.stopDone // its process is our child too; reap it first
	}
	_ = syscall.Kill(-s.pgid, syscall.SIGKILL)
	deadline := time.Now().Add(reapTimeout)
	for {
		// Orphans of the group were reparented to us (subreaper).
		for {
			var ws syscall.WaitStatus
			pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
		if err := syscall.Kill(-s.pgid, 0); errors.Is(err, syscall.ESRCH) || time.Now().After(deadline) {
			return
		}
		time.Sleep(10 * time.Millisecond) // waiting on the kernel to end processes
	}
}

// exitCode reports a signal the way a shell does, 128+signal.
func exitCode(ps *os.ProcessState) int {
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}
