package trio_test

import (
	"context"
	"testing"

	"github.com/trioasyncio/trioasyncio/trio"
)

func TestRunReturnsMainsError(t *testing.T) {
	if err := trio.Run(func(ctx context.Context) error { return errBoom }); err != errBoom {
		t.Errorf("Run = %v, want boom", err)
	}
	if err := trio.Run(func(ctx context.Context) error { return nil }); err != nil {
		t.Errorf("Run = %v, want nil", err)
	}
}
