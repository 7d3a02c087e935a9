package trio_test

import (
	"context"
	"fmt"

	"github.com/trioasyncio/trioasyncio/trio"
)

func ExampleEvent() {
	var ready trio.Event
	err := trio.OpenNursery(context.Background(), func(ctx context.Context, n *trio.Nursery) error {
		n.StartSoon(func(ctx context.Context) error {
			if err := ready.Wait(ctx); err != nil {
				return err
			}
			fmt.Println("worker: going")
			return nil
		})
		fmt.Println("main: setting up")
		ready.Set()
		return nil
	})
	fmt.Println("done:", err)
	// Output:
	// main: setting up
	// worker: going
	// done: <nil>
}
