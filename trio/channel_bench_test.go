package trio_test

import (
	"context"
	"testing"

	"github.com/trioasyncio/trioasyncio/trio"
)

// The ping-pong benchmarks bounce a value between two goroutines over two
// rendezvous channels; one op is one round trip (two hand-offs, two
// goroutine wake-ups). Run them side by side:
//
//	go test -run '^$' -bench PingPong ./trio/

// BenchmarkMemoryChannelPingPong uses memory channels of size 0, with a
// cancellable ctx as trio code always has one.
func BenchmarkMemoryChannelPingPong(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pingS, pingR := trio.OpenMemoryChannel[int](0)
	pongS, pongR := trio.OpenMemoryChannel[int](0)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer pongS.Close()
		for v, err := range pingR.All(ctx) {
			if err != nil || pongS.Send(ctx, v) != nil {
				return
			}
		}
	}()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if err := pingS.Send(ctx, i); err != nil {
			b.Fatal(err)
		}
		if v, err := pongR.Receive(ctx); err != nil || v != i {
			b.Fatal(v, err)
		}
		i++
	}
	pingS.Close()
	<-done
}

// BenchmarkGoChannelPingPong is the same with plain unbuffered Go channels.
func BenchmarkGoChannelPingPong(b *testing.B) {
	ping, pong := make(chan int), make(chan int)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(pong)
		for v := range ping {
			pong <- v
		}
	}()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		ping <- i
		if v := <-pong; v != i {
			b.Fatal(v)
		}
		i++
	}
	close(ping)
	<-done
}

// BenchmarkGoChannelSelectPingPong is the same with unbuffered Go channels
// in a select on ctx.Done(), the usual way to make a Go channel operation
// cancellable: the fair comparison for Send and Receive.
func BenchmarkGoChannelSelectPingPong(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ping, pong := make(chan int), make(chan int)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case v, ok := <-ping:
				if !ok {
					return
				}
				select {
				case pong <- v:
				case <-ctx.Done():
					return
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		select {
		case ping <- i:
		case <-ctx.Done():
			b.Fatal(ctx.Err())
		}
		select {
		case v := <-pong:
			if v != i {
				b.Fatal(v)
			}
		case <-ctx.Done():
			b.Fatal(ctx.Err())
		}
		i++
	}
	close(ping)
	<-done
}
