// Command sharepanel serves the SharePanel API over HTTP from a SQLite file
// and manages its data with admin verbs. Run "sharepanel help" for the list
// of verbs.
package main

import (
	"os"

	"github.com/sharepanel/sharepanel/cmd/sharepanel/cli"
)

func main() {
	os.Exit(cli.Main())
}
