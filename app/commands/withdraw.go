package commands

var withdrawCommand = Command{
	Name:  "withdraw",
	Usage: "/withdraw",
	Help:  "End this pull request's release request (on the research pull request or the release pull request).",
	Parse: parseWithdraw,
}

// Withdraw asks for the pull request's release request to end.
type Withdraw struct{}

func parseWithdraw(inv Invocation) (any, error) {
	if err := noOperands("withdraw", inv); err != nil {
		return nil, err
	}
	return Withdraw{}, nil
}
