// Command sharepanel serves the SharePanel API over HTTP from a SQLite file
// and manages its data with admin verbs. Run "sharepanel help" for the list
// of verbs.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/sharepanel/sharepanel/cmd/sharepanel/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
