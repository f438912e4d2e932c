package graph_test

import (
	"context"

	"github.com/healthmed/healthmed/internal/viewer"
)

func sysCtx() context.Context { return viewer.SystemContext(context.Background()) }
