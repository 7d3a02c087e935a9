package trio_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/trioasyncio/trioasyncio/trio"
)

func ExampleOpenNursery() {
	results := make(chan string, 3)
	err := trio.OpenNursery(context.Background(), func(ctx context.Context, n *trio.Nursery) error {
		for _, name := range []string{"a", "b", "c"} {
			n.StartSoon(func(ctx context.Context) error {
				results <- name
				return nil
			})
		}
		return nil
	})
	// Every child has returned by now.
	fmt.Println(len(results), err)
	// Output: 3 <nil>
}

func ExampleNursery_failure() {
	errDisk := errors.New("disk full")
	err := trio.OpenNursery(context.Background(), func(ctx context.Context, n *trio.Nursery) error {
		n.StartSoon(func(ctx context.Context) error {
			err := trio.SleepForever(ctx) // cancelled by its sibling's failure
			fmt.Println("sibling:", err)
			return err
		})
		n.StartSoon(func(ctx context.Context) error { return errDisk })
		return nil
	})
	fmt.Println("nursery:", err)
	// Output:
	// sibling: trio: cancelled: a child of the nursery failed: disk full
	// nursery: disk full
}

func ExampleStart() {
	trio.OpenNursery(context.Background(), func(ctx context.Context, n *trio.Nursery) error {
		port, err := trio.Start(ctx, n, func(ctx context.Context, started func(int)) error {
			started(8080) // e.g. once listening
			return nil    // and then serve until done
		})
		fmt.Println(port, err)
		return nil
	})
	// Output: 8080 <nil>
}

func ExampleCancelScope() {
	var scope trio.CancelScope
	scope.SetDeadline(time.Now().Add(10 * time.Millisecond))
	err := scope.Run(context.Background(), func(ctx context.Context) error {
		return trio.SleepForever(ctx) // ends with the deadline's cancellation
	})
	// The scope absorbed its own cancellation.
	fmt.Println(err, scope.CancelledCaught())
	// Output: <nil> true
}

func ExampleCancelScope_shield() {
	var outer trio.CancelScope
	outer.Run(context.Background(), func(ctx context.Context) error {
		outer.Cancel()
		var cleanup trio.CancelScope
		cleanup.SetShield(true)
		cleanup.Run(ctx, func(ctx context.Context) error {
			fmt.Println("shielded checkpoint:", trio.Checkpoint(ctx))
			return nil
		})
		err := trio.Checkpoint(ctx)
		fmt.Println("outside the shield:", err)
		return err
	})
	fmt.Println("outer caught its cancellation:", outer.CancelledCaught())
	// Output:
	// shielded checkpoint: <nil>
	// outside the shield: trio: cancelled: Cancel called
	// outer caught its cancellation: true
}

func ExampleCancelledError() {
	var scope trio.CancelScope
	scope.SetDeadline(time.Now())
	scope.Run(context.Background(), func(ctx context.Context) error {
		err := trio.Checkpoint(ctx)
		var ce *trio.CancelledError
		fmt.Println(errors.As(err, &ce), ce.Scope == &scope, ce.Deadline)
		fmt.Println(errors.Is(err, trio.ErrCancelled), errors.Is(err, context.DeadlineExceeded))
		return err
	})
	// Output:
	// true true true
	// true true
}

func ExamplePanicError() {
	defer func() {
		p := recover().(*trio.PanicError)
		fmt.Println("recovered:", p.Value, len(p.Stack) > 0)
	}()
	trio.OpenNursery(context.Background(), func(ctx context.Context, n *trio.Nursery) error {
		n.StartSoon(func(ctx context.Context) error { panic("oops") })
		return nil
	})
	// Output: recovered: oops true
}

// A nursery keeps every panic and error: the first panic is re-raised,
// carrying the others.
func ExamplePanicError_others() {
	errDisk := errors.New("disk full")
	defer func() {
		p := recover().(*trio.PanicError)
		fmt.Println("first:", p.Value)
		for _, e := range p.Others {
			fmt.Println("other:", e)
		}
		fmt.Println(errors.Is(p, errDisk))
	}()
	trio.OpenNursery(context.Background(), func(ctx context.Context, n *trio.Nursery) error {
		n.StartSoon(func(ctx context.Context) error { panic("oops") })
		<-ctx.Done() // the panic cancels the nursery
		return errDisk
	})
	// Output:
	// first: oops
	// other: disk full
	// true
}

func ExampleMoveOnAfter() {
	movedOn, err := trio.MoveOnAfter(context.Background(), 10*time.Millisecond, trio.SleepForever)
	fmt.Println(movedOn, err)
	// Output: true <nil>
}
