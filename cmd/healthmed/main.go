// Command healthmed is the telemedicine server.
//
//	healthmed serve    migrate, then serve GraphQL
//	healthmed migrate  apply pending database migrations and exit
//	healthmed seed     load demo doctors, slots and patients (once; HEALTHMED_DEV=true only)
//	healthmed dev      migrate, seed once, serve with the GraphQL IDE
//	healthmed rotate-keys  re-wrap stored keys under the current record KEK
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	// Libraries that write through the standard log package (gqlgen,
	// net/http's server errors) come out as JSON lines too.
	slog.SetDefault(log)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, log, os.Args[1:]); err != nil {
		log.Error("healthmed stopped", "err", err.Error())
		os.Exit(1)
	}
}

func run(ctx context.Context, log *slog.Logger, args []string) error {
	cmd := "serve"
	if len(args) > 0 {
		cmd = args[0]
	}
	switch cmd {
	case "serve", "migrate", "seed", "dev", "rotate-keys":
	case "-h", "--help", "help":
		fmt.Println("usage: healthmed [serve|migrate|seed|dev|rotate-keys]")
		return nil
	default:
		return fmt.Errorf("unknown command %q (want serve, migrate, seed, dev or rotate-keys)", cmd)
	}
	srv, err := newApp(ctx, log, cmd == "dev")
	if err != nil {
		return err
	}
	defer srv.close()
	switch cmd {
	case "migrate":
		return srv.migrate(ctx)
	case "rotate-keys":
		if err := srv.migrate(ctx); err != nil {
			return err
		}
		return srv.rotateKeys(ctx)
	case "seed":
		if !srv.cfg.Dev {
			return errSeedInProduction
		}
		if err := srv.migrate(ctx); err != nil {
			return err
		}
		return srv.seed(ctx)
	case "dev":
		if err := srv.migrate(ctx); err != nil {
			return err
		}
		if err := srv.seed(ctx); err != nil {
			return err
		}
	default:
		if err := srv.migrate(ctx); err != nil {
			return err
		}
	}
	err = srv.serve(ctx)
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}
