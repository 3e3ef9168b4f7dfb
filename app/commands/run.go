package commands

var runCommand = Command{
	Name:  "run",
	Usage: "/run [--backend NAME] [-f|--force-run-dependencies] all | ACTION...",
	Help:  "Run actions of project.yaml (or `all` of them) on a backend, with whichever of their dependencies need to run first.",
	Flags: []Flag{backendFlag, forceFlag},
	Parse: parseRun,
}

// Run asks for actions to be run: every action when All, else Actions.
type Run struct {
	Backend string // "" for the repository's default
	Force   bool   // run dependencies even when their outputs could be reused
	All     bool
	Actions []string // no repeats, in the order given
}

func parseRun(inv Invocation) (any, error) {
	names, all, err := operands(inv.Args)
	if err != nil {
		return nil, err
	}
	if !all && len(names) == 0 {
		return nil, reasonf(nil, "say which actions to run, or %s for every action", code("all"))
	}
	_, force := inv.Flags[forceFlag.Name]
	return Run{Backend: inv.Flags[backendFlag.Name], Force: force, All: all, Actions: names}, nil
}
