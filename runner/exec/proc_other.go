//go:build unix && !linux

package exec

import (
	"errors"
	"syscall"
)

// procStart has no start time to read outside Linux, so a reused PID looks
// alive; the agent's production home is Linux.
func procStart(pid int) (start string, alive bool, err error) {
	switch err := syscall.Kill(pid, 0); {
	case err == nil, errors.Is(err, syscall.EPERM):
		return "0", true, nil
	case errors.Is(err, syscall.ESRCH):
		return "", false, nil
	default:
		return "", false, err
	}
}

func becomeSubreaper() error { return errors.ErrUnsupported }
