package commands

var cancelCommand = Command{
	Name:  "cancel",
	Usage: "/cancel [ACTION...]",
	Help:  "Cancel the pending and running jobs of this pull request, or only those of the actions named.",
	Parse: parseCancel,
}

// Cancel asks for jobs to be cancelled: those of Actions, or every job of
// the pull request when Actions is empty ("/cancel" or "/cancel all").
type Cancel struct {
	Actions []string // no repeats, in the order given
}

func parseCancel(inv Invocation) (any, error) {
	names, _, err := operands(inv.Args)
	if err != nil {
		return nil, err
	}
	return Cancel{Actions: names}, nil
}
