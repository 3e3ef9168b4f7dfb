package commands

var statusCommand = Command{
	Name:  "status",
	Usage: "/status",
	Help:  "Show the state of this pull request's runs and releases.",
	Parse: parseStatus,
}

// Status asks for the state of the pull request's runs and releases.
type Status struct{}

func parseStatus(inv Invocation) (any, error) {
	if err := noOperands("status", inv); err != nil {
		return nil, err
	}
	return Status{}, nil
}
