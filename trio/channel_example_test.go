package trio_test

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/trioasyncio/trioasyncio/trio"
)

// A producer and a consumer in a nursery. The producer closes its handle
// when done, which ends the consumer's range loop.
func ExampleOpenMemoryChannel() {
	send, receive := trio.OpenMemoryChannel[string](0)
	err := trio.OpenNursery(context.Background(), func(ctx context.Context, n *trio.Nursery) error {
		n.StartSoon(func(ctx context.Context) error {
			defer send.Close()
			for _, word := range []string{"structured", "concurrency"} {
				if err := send.Send(ctx, word); err != nil {
					return err
				}
			}
			return nil
		})
		n.StartSoon(func(ctx context.Context) error {
			defer receive.Close()
			for word, err := range receive.All(ctx) {
				if err != nil {
					return err
				}
				fmt.Println(word)
			}
			fmt.Println("end of channel")
			return nil
		})
		return nil
	})
	fmt.Println("err:", err)
	// Output:
	// structured
	// concurrency
	// end of channel
	// err: <nil>
}

// Fan-in: each producer owns a clone of the send handle and closes it when
// done; the consumer sees the end of the channel after the last one.
func ExampleMemorySendChannel_Clone() {
	send, receive := trio.OpenMemoryChannel[int](0)
	var got []int
	err := trio.OpenNursery(context.Background(), func(ctx context.Context, n *trio.Nursery) error {
		for id := range 3 {
			send, err := send.Clone()
			if err != nil {
				return err
			}
			n.StartSoon(func(ctx context.Context) error {
				defer send.Close()
				return send.Send(ctx, id*10)
			})
		}
		send.Close() // the producers hold the remaining handles
		for v, err := range receive.All(ctx) {
			if err != nil {
				return err
			}
			got = append(got, v)
		}
		return nil
	})
	slices.Sort(got)
	fmt.Println(got, err)
	// Output: [0 10 20] <nil>
}

func ExampleMemorySendChannel_TrySend() {
	send, receive := trio.OpenMemoryChannel[int](1)
	fmt.Println(send.TrySend(1))
	fmt.Println(send.TrySend(2)) // the buffer is full
	receive.Close()
	fmt.Println(send.TrySend(3)) // nobody will ever receive it
	// Output:
	// <nil>
	// trio: operation would block
	// trio: resource broken
}

// A Receive bounded by a timeout: the cancel scope absorbs its own
// cancellation, and nothing was taken from the channel.
func ExampleMemoryReceiveChannel_Receive() {
	_, receive := trio.OpenMemoryChannel[int](0)
	movedOn, err := trio.MoveOnAfter(context.Background(), 10*time.Millisecond, func(ctx context.Context) error {
		_, err := receive.Receive(ctx)
		return err
	})
	fmt.Println(movedOn, err)
	// Output: true <nil>
}
