package trio_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/trioasyncio/trioasyncio/trio"
)

// Every public entry point that takes a function panics with a message
// naming itself when given nil, instead of failing later with a nil
// dereference in another goroutine.
func TestNilFunctionsPanicNamingTheFunction(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		want string
		call func()
	}{
		{"trio: OpenNursery with a nil body", func() { trio.OpenNursery(ctx, nil) }},
		{"trio: StartSoon with a nil function", func() {
			trio.OpenNursery(ctx, func(ctx context.Context, n *trio.Nursery) error {
				defer func() { panic(recover()) }() // re-panic the value as it is
				n.StartSoon(nil)
				return nil
			})
		}},
		{"trio: Start with a nil function", func() {
			trio.OpenNursery(ctx, func(ctx context.Context, n *trio.Nursery) error {
				defer func() { panic(recover()) }()
				trio.Start[int](ctx, n, nil)
				return nil
			})
		}},
		{"trio: Start with a nil nursery", func() {
			trio.Start(ctx, nil, func(context.Context, func(int)) error { return nil })
		}},
		{"trio: Run with a nil function", func() { trio.Run(nil) }},
		{"trio: CancelScope.Run with a nil function", func() { new(trio.CancelScope).Run(ctx, nil) }},
		{"trio: CancelScope.RunUnder with a nil function", func() { new(trio.CancelScope).RunUnder(ctx, ctx, nil) }},
		{"trio: MoveOnAfter with a nil function", func() { trio.MoveOnAfter(ctx, time.Second, nil) }},
		{"trio: MoveOnAt with a nil function", func() { trio.MoveOnAt(ctx, time.Now(), nil) }},
		{"trio: FailAfter with a nil function", func() { trio.FailAfter(ctx, time.Second, nil) }},
		{"trio: FailAt with a nil function", func() { trio.FailAt(ctx, time.Now(), nil) }},
		{"trio: ServeTCP with a nil handler", func() { trio.ServeTCP(ctx, nil, "127.0.0.1", 0, nil) }},
		{"trio: ServeListeners with a nil handler", func() { trio.ServeListeners(ctx, nil, []net.Listener{}, nil) }},
	}
	for _, c := range cases {
		t.Run(c.want, func(t *testing.T) {
			wantPanicValue(t, c.want, c.call)
		})
	}
}

// wantPanicValue fails t unless fn panics with the string want, directly
// or as the Value of a *trio.PanicError (a panic in a nursery body is
// re-raised as one).
func wantPanicValue(t *testing.T, want string, fn func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		if p, ok := r.(*trio.PanicError); ok {
			r = p.Value
		}
		if r != want {
			t.Errorf("panic value = %#v, want %q", r, want)
		}
	}()
	fn()
}
