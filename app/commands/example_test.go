package commands_test

import (
	"fmt"

	"github.com/fivesafes/fivesafes/app/commands"
)

func ExampleParse() {
	body := "Thanks, looks right now.\r\n" +
		"> /run all\r\n" +
		"/run --backend tpp -f generate_dataset analyse\r\n" +
		"```\r\n/cancel\r\n```\r\n" +
		"/stauts\r\n"
	cmds, errs := commands.Parse(body)
	for _, c := range cmds {
		fmt.Printf("line %d: %#v\n", c.Line, c.Command)
	}
	for _, e := range errs {
		fmt.Println(e)
	}
	// Output:
	// line 3: commands.Run{Backend:"tpp", Force:true, All:false, Actions:[]string{"generate_dataset", "analyse"}}
	// line 7: unknown command `/stauts` (did you mean `/status`?)
}

func ExampleSuggest() {
	fmt.Println(commands.Suggest("generate_datset", []string{"generate_dataset", "analyse"}))
	// Output: [generate_dataset]
}
