package trio_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"runtime"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/trioasyncio/trioasyncio/trio"
)

type recvResult struct {
	v   int
	err error
}

// goSend starts s.Send(ctx, v) in a goroutine and returns where its error
// will arrive.
func goSend(ctx context.Context, s *trio.MemorySendChannel[int], v int) <-chan error {
	c := make(chan error, 1)
	go func() { c <- s.Send(ctx, v) }()
	return c
}

// goReceive starts r.Receive(ctx) in a goroutine.
func goReceive(ctx context.Context, r *trio.MemoryReceiveChannel[int]) <-chan recvResult {
	c := make(chan recvResult, 1)
	go func() {
		v, err := r.Receive(ctx)
		c <- recvResult{v, err}
	}()
	return c
}

// pending fails the test if c is ready; call it after synctest.Wait.
func pending[E any](t *testing.T, c <-chan E, what string) {
	t.Helper()
	select {
	case e := <-c:
		t.Fatalf("%s returned (%v), want it blocked", what, e)
	default:
	}
}

// ready returns what c holds; call it after synctest.Wait.
func ready[E any](t *testing.T, c <-chan E, what string) E {
	t.Helper()
	select {
	case e := <-c:
		return e
	default:
		t.Fatalf("%s still blocked, want it done", what)
		panic("unreachable")
	}
}

// mustClone clones an open handle.
func mustClone[H interface{ Clone() (H, error) }](t *testing.T, h H) H {
	t.Helper()
	c, err := h.Clone()
	if err != nil {
		t.Fatalf("Clone = %v", err)
	}
	return c
}

// wantStats compares statistics, PeakBufferUsed aside (see
// TestStatistics).
func wantStats(t *testing.T, got, want trio.MemoryChannelStatistics) {
	t.Helper()
	want.PeakBufferUsed = got.PeakBufferUsed
	if got != want {
		t.Fatalf("statistics = %+v, want %+v", got, want)
	}
}

func TestMemoryChannelRendezvous(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		s, r := trio.OpenMemoryChannel[int](0)

		if err := s.TrySend(1); err != trio.ErrWouldBlock {
			t.Fatalf("TrySend with no receiver = %v, want ErrWouldBlock", err)
		}
		if _, err := r.TryReceive(); err != trio.ErrWouldBlock {
			t.Fatalf("TryReceive with no sender = %v, want ErrWouldBlock", err)
		}

		// A Send completes only when a receiver takes the value.
		sent := goSend(ctx, s, 42)
		synctest.Wait()
		pending(t, sent, "Send without a receiver")
		wantStats(t, s.Statistics(), trio.MemoryChannelStatistics{
			OpenSendChannels: 1, OpenReceiveChannels: 1, TasksWaitingSend: 1,
		})
		if v, err := r.Receive(ctx); v != 42 || err != nil {
			t.Fatalf("Receive = %v, %v; want 42, nil", v, err)
		}
		synctest.Wait()
		if err := ready(t, sent, "Send"); err != nil {
			t.Fatalf("Send = %v", err)
		}

		// A waiting receiver makes TrySend succeed.
		got := goReceive(ctx, r)
		synctest.Wait()
		pending(t, got, "Receive without a sender")
		if err := s.TrySend(7); err != nil {
			t.Fatalf("TrySend to a waiting receiver = %v", err)
		}
		synctest.Wait()
		if res := ready(t, got, "Receive"); res != (recvResult{7, nil}) {
			t.Fatalf("Receive = %+v, want 7", res)
		}

		// A waiting sender makes TryReceive succeed.
		sent = goSend(ctx, s, 8)
		synctest.Wait()
		if v, err := r.TryReceive(); v != 8 || err != nil {
			t.Fatalf("TryReceive from a waiting sender = %v, %v", v, err)
		}
		synctest.Wait()
		if err := ready(t, sent, "Send"); err != nil {
			t.Fatalf("Send = %v", err)
		}
	})
}

func TestMemoryChannelBufferOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		s, r := trio.OpenMemoryChannel[int](3)
		for i := range 3 {
			if err := s.TrySend(i); err != nil {
				t.Fatalf("TrySend(%d) into a buffer with room = %v", i, err)
			}
		}
		if err := s.TrySend(3); err != trio.ErrWouldBlock {
			t.Fatalf("TrySend into a full buffer = %v, want ErrWouldBlock", err)
		}
		// Blocked senders queue up behind the buffer, in the order they blocked.
		var sends []<-chan error
		for i := 3; i < 6; i++ {
			sends = append(sends, goSend(ctx, s, i))
			synctest.Wait()
		}
		wantStats(t, r.Statistics(), trio.MemoryChannelStatistics{
			CurrentBufferUsed: 3, MaxBufferSize: 3,
			OpenSendChannels: 1, OpenReceiveChannels: 1, TasksWaitingSend: 3,
		})
		for want := range 6 {
			if v, err := r.Receive(ctx); v != want || err != nil {
				t.Fatalf("Receive = %v, %v; want %d", v, err, want)
			}
		}
		synctest.Wait()
		for i, c := range sends {
			if err := ready(t, c, "Send"); err != nil {
				t.Fatalf("Send #%d = %v", i, err)
			}
		}
		if _, err := r.TryReceive(); err != trio.ErrWouldBlock {
			t.Fatalf("TryReceive on an empty channel = %v", err)
		}
	})
}

func TestMemoryChannelReceiversFIFO(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		s, r := trio.OpenMemoryChannel[int](0)
		var got []<-chan recvResult
		for range 5 {
			got = append(got, goReceive(ctx, r))
			synctest.Wait()
		}
		for i := range 5 {
			if err := s.TrySend(i); err != nil {
				t.Fatalf("TrySend(%d) = %v", i, err)
			}
		}
		synctest.Wait()
		for i, c := range got {
			if res := ready(t, c, "Receive"); res != (recvResult{i, nil}) {
				t.Fatalf("receiver #%d got %+v, want %d", i, res, i)
			}
		}
	})
}

// TestMemoryChannelBufferModel drives buffered channels with random TrySend
// and TryReceive calls and compares them with a slice, exercising the
// buffer's growth, wrap-around and shrinking.
func TestMemoryChannelBufferModel(t *testing.T) {
	for _, size := range []int{0, 1, 3, 100, trio.UnboundedBuffer} {
		rng := rand.New(rand.NewPCG(1, uint64(size)))
		s, r := trio.OpenMemoryChannel[int](size)
		var model []int
		next := 0
		for step := range 20000 {
			// Phases that favour sending, then receiving, so the buffer
			// grows large and empties again.
			pSend := 0.7
			if step/2000%2 == 1 {
				pSend = 0.3
			}
			if rng.Float64() < pSend {
				err := s.TrySend(next)
				if len(model) < size {
					if err != nil {
						t.Fatalf("size %d: TrySend with %d buffered = %v", size, len(model), err)
					}
					model = append(model, next)
				} else if err != trio.ErrWouldBlock {
					t.Fatalf("size %d: TrySend into a full buffer = %v", size, err)
				}
				next++
			} else {
				v, err := r.TryReceive()
				if len(model) == 0 {
					if err != trio.ErrWouldBlock {
						t.Fatalf("size %d: TryReceive on empty = %v, %v", size, v, err)
					}
					continue
				}
				if err != nil || v != model[0] {
					t.Fatalf("size %d: TryReceive = %v, %v; want %d", size, v, err, model[0])
				}
				model = model[1:]
			}
			if n := r.Statistics().CurrentBufferUsed; n != len(model) {
				t.Fatalf("size %d: CurrentBufferUsed = %d, want %d", size, n, len(model))
			}
		}
	}
}

func TestMemoryChannelUnbounded(t *testing.T) {
	s, r := trio.OpenMemoryChannel[int](trio.UnboundedBuffer)
	const n = 100000
	for i := range n {
		if err := s.TrySend(i); err != nil {
			t.Fatalf("TrySend(%d) on an unbounded channel = %v", i, err)
		}
	}
	if st := s.Statistics(); st.CurrentBufferUsed != n || st.MaxBufferSize != trio.UnboundedBuffer {
		t.Fatalf("statistics = %+v", st)
	}
	s.Close()
	i := 0
	for v, err := range r.All(context.Background()) {
		if err != nil || v != i {
			t.Fatalf("received %v, %v; want %d", v, err, i)
		}
		i++
	}
	if i != n {
		t.Fatalf("received %d values, want %d", i, n)
	}
}

func TestMemoryChannelNegativeSizePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("OpenMemoryChannel(-1) did not panic")
		}
	}()
	trio.OpenMemoryChannel[int](-1)
}

func TestMemoryChannelZeroValuePanics(t *testing.T) {
	for name, f := range map[string]func(){
		"send":    func() { new(trio.MemorySendChannel[int]).TrySend(1) },
		"receive": func() { new(trio.MemoryReceiveChannel[int]).TryReceive() },
	} {
		func() {
			defer func() {
				v := recover()
				if s, _ := v.(string); s == "" {
					t.Errorf("%s on a zero handle: panic %v, want a message", name, v)
				}
			}()
			f()
		}()
	}
}

func TestMemoryChannelEndOfChannel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		s, r := trio.OpenMemoryChannel[int](2)
		s2 := mustClone(t, s)
		if err := s.TrySend(1); err != nil {
			t.Fatal(err)
		}
		if err := s2.TrySend(2); err != nil {
			t.Fatal(err)
		}
		s.Close()
		s.Close() // idempotent: must not count twice
		if n := r.Statistics().OpenSendChannels; n != 1 {
			t.Fatalf("OpenSendChannels after closing one of two handles twice = %d, want 1", n)
		}
		for want := 1; want <= 2; want++ {
			if v, err := r.Receive(ctx); v != want || err != nil {
				t.Fatalf("Receive = %v, %v; want %d", v, err, want)
			}
		}
		// s2 is still open: no end yet, a receiver blocks.
		if _, err := r.TryReceive(); err != trio.ErrWouldBlock {
			t.Fatalf("TryReceive with a sender still open = %v, want ErrWouldBlock", err)
		}
		got := goReceive(ctx, r)
		synctest.Wait()
		pending(t, got, "Receive with a sender still open")
		s2.Close()
		synctest.Wait()
		if res := ready(t, got, "Receive"); res.err != trio.ErrEndOfChannel {
			t.Fatalf("blocked Receive after the last sender closed = %+v, want ErrEndOfChannel", res)
		}
		if _, err := r.TryReceive(); err != trio.ErrEndOfChannel {
			t.Fatalf("TryReceive = %v, want ErrEndOfChannel", err)
		}
		if _, err := r.Receive(ctx); err != trio.ErrEndOfChannel {
			t.Fatalf("Receive = %v, want ErrEndOfChannel", err)
		}

		// Values buffered before the last close are still delivered.
		s, r = trio.OpenMemoryChannel[int](2)
		s.TrySend(10)
		s.TrySend(11)
		s.Close()
		for want := 10; want <= 11; want++ {
			if v, err := r.Receive(ctx); v != want || err != nil {
				t.Fatalf("Receive after close = %v, %v; want %d", v, err, want)
			}
		}
		if _, err := r.Receive(ctx); err != trio.ErrEndOfChannel {
			t.Fatalf("Receive after drain = %v, want ErrEndOfChannel", err)
		}
	})
}

func TestMemoryChannelBrokenResource(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		s, r := trio.OpenMemoryChannel[int](1)
		r2 := mustClone(t, r)
		if err := s.TrySend(1); err != nil {
			t.Fatal(err)
		}
		sent := goSend(ctx, s, 2)
		synctest.Wait()
		r.Close()
		r.Close()
		synctest.Wait()
		pending(t, sent, "Send with a receiver still open")
		if err := s.TrySend(3); err != trio.ErrWouldBlock {
			t.Fatalf("TrySend into a full buffer = %v", err)
		}
		r2.Close()
		synctest.Wait()
		if err := ready(t, sent, "Send"); err != trio.ErrBrokenResource {
			t.Fatalf("blocked Send after the last receiver closed = %v, want ErrBrokenResource", err)
		}
		wantStats(t, s.Statistics(), trio.MemoryChannelStatistics{
			MaxBufferSize: 1, OpenSendChannels: 1, // the buffered value was dropped
		})
		if err := s.TrySend(4); err != trio.ErrBrokenResource {
			t.Fatalf("TrySend = %v, want ErrBrokenResource", err)
		}
		if err := s.Send(ctx, 5); err != trio.ErrBrokenResource {
			t.Fatalf("Send = %v, want ErrBrokenResource", err)
		}
		// A handle closed by its holder reports that first, as in Trio.
		s.Close()
		if err := s.TrySend(6); err != trio.ErrClosedResource {
			t.Fatalf("TrySend on a closed handle of a broken channel = %v, want ErrClosedResource", err)
		}
	})
}

func TestMemoryChannelClosedResource(t *testing.T) {
	ctx := context.Background()
	s, r := trio.OpenMemoryChannel[int](1)
	s2, r2 := mustClone(t, s), mustClone(t, r)
	s.Close()
	r.Close()

	if err := s.Send(ctx, 1); err != trio.ErrClosedResource {
		t.Errorf("Send on a closed handle = %v", err)
	}
	if err := s.TrySend(1); err != trio.ErrClosedResource {
		t.Errorf("TrySend on a closed handle = %v", err)
	}
	if _, err := r.Receive(ctx); err != trio.ErrClosedResource {
		t.Errorf("Receive on a closed handle = %v", err)
	}
	if _, err := r.TryReceive(); err != trio.ErrClosedResource {
		t.Errorf("TryReceive on a closed handle = %v", err)
	}
	for _, err := range r.All(ctx) {
		if err != trio.ErrClosedResource {
			t.Errorf("All on a closed handle yielded %v", err)
		}
	}
	// Closed handles cannot be cloned (Trio's test_channel: clone() of a
	// closed handle raises ClosedResourceError), and nothing reopens.
	if s3, err := s.Clone(); s3 != nil || err != trio.ErrClosedResource {
		t.Errorf("Clone of a closed send handle = %v, %v; want nil, ErrClosedResource", s3, err)
	}
	if r3, err := r.Clone(); r3 != nil || err != trio.ErrClosedResource {
		t.Errorf("Clone of a closed receive handle = %v, %v; want nil, ErrClosedResource", r3, err)
	}
	wantStats(t, s2.Statistics(), trio.MemoryChannelStatistics{
		MaxBufferSize: 1, OpenSendChannels: 1, OpenReceiveChannels: 1,
	})

	// The other handles work on.
	if err := s2.TrySend(5); err != nil {
		t.Errorf("TrySend on an open clone = %v", err)
	}
	if v, err := r2.TryReceive(); v != 5 || err != nil {
		t.Errorf("TryReceive on an open clone = %v, %v", v, err)
	}
}

func TestMemoryChannelCloseWakesItsOwnBlockedOps(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		s, r := trio.OpenMemoryChannel[int](0)
		s2 := mustClone(t, s)
		onS := goSend(ctx, s, 1)
		synctest.Wait()
		onS2 := goSend(ctx, s2, 2)
		synctest.Wait()
		s.Close()
		synctest.Wait()
		if err := ready(t, onS, "Send on the closed handle"); err != trio.ErrClosedResource {
			t.Fatalf("Send blocked on a handle closed meanwhile = %v, want ErrClosedResource", err)
		}
		pending(t, onS2, "Send on the other clone")
		// Value 1 was withdrawn; value 2 is next.
		if v, err := r.Receive(ctx); v != 2 || err != nil {
			t.Fatalf("Receive = %v, %v; want 2", v, err)
		}
		synctest.Wait()
		if err := ready(t, onS2, "Send"); err != nil {
			t.Fatalf("Send on the other clone = %v", err)
		}

		r2 := mustClone(t, r)
		onR := goReceive(ctx, r)
		synctest.Wait()
		onR2 := goReceive(ctx, r2)
		synctest.Wait()
		r.Close()
		synctest.Wait()
		if res := ready(t, onR, "Receive on the closed handle"); res.err != trio.ErrClosedResource {
			t.Fatalf("Receive blocked on a handle closed meanwhile = %+v, want ErrClosedResource", res)
		}
		pending(t, onR2, "Receive on the other clone")
		if err := s2.TrySend(3); err != nil {
			t.Fatalf("TrySend = %v", err)
		}
		synctest.Wait()
		if res := ready(t, onR2, "Receive"); res != (recvResult{3, nil}) {
			t.Fatalf("Receive on the other clone = %+v, want 3", res)
		}
		s2.Close()
		r2.Close()
	})
}

func wantCancelled(t *testing.T, err error, ctxErr error) {
	t.Helper()
	if !errors.Is(err, trio.ErrCancelled) || !errors.Is(err, ctxErr) {
		t.Fatalf("error = %v, want a trio cancellation matching %v", err, ctxErr)
	}
}

func TestMemoryChannelCancelBlockedSend(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, r := trio.OpenMemoryChannel[int](0)

		// A foreign context.
		ctx, cancel := context.WithCancel(t.Context())
		sent := goSend(ctx, s, 1)
		synctest.Wait()
		cancel()
		synctest.Wait()
		wantCancelled(t, ready(t, sent, "cancelled Send"), context.Canceled)
		if _, err := r.TryReceive(); err != trio.ErrWouldBlock {
			t.Fatalf("TryReceive after the Send was cancelled = %v, want ErrWouldBlock", err)
		}

		// A trio scope: the nursery's cancellation reaches the child.
		var got error
		err := trio.OpenNursery(t.Context(), func(ctx context.Context, n *trio.Nursery) error {
			n.StartSoon(func(ctx context.Context) error {
				got = s.Send(ctx, 2)
				return got
			})
			synctest.Wait()
			n.CancelScope().Cancel()
			return nil
		})
		if err != nil {
			t.Fatalf("OpenNursery = %v", err)
		}
		wantCancelled(t, got, context.Canceled)
		if ce := (*trio.CancelledError)(nil); !errors.As(got, &ce) || ce.Scope == nil {
			t.Fatalf("Send's error %v does not name the cancelled scope", got)
		}
		wantStats(t, s.Statistics(), trio.MemoryChannelStatistics{OpenSendChannels: 1, OpenReceiveChannels: 1})
	})
}

func TestMemoryChannelCancelBlockedReceive(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, r := trio.OpenMemoryChannel[int](0)
		start := time.Now()
		var got error
		movedOn, err := trio.MoveOnAfter(t.Context(), time.Second, func(ctx context.Context) error {
			_, got = r.Receive(ctx)
			return got
		})
		if !movedOn || err != nil {
			t.Fatalf("MoveOnAfter = %v, %v; want moved on", movedOn, err)
		}
		if d := time.Since(start); d != time.Second {
			t.Fatalf("Receive gave up after %v, want 1s", d)
		}
		wantCancelled(t, got, context.DeadlineExceeded)
		// The receiver is gone: nothing is waiting for a value.
		if err := s.TrySend(1); err != trio.ErrWouldBlock {
			t.Fatalf("TrySend after the Receive was cancelled = %v, want ErrWouldBlock", err)
		}
		wantStats(t, r.Statistics(), trio.MemoryChannelStatistics{OpenSendChannels: 1, OpenReceiveChannels: 1})
	})
}

func TestMemoryChannelCancelledOnEntry(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s, r := trio.OpenMemoryChannel[int](1)
	// Send and Receive are checkpoints: a done ctx fails them even when
	// they could complete at once, and then nothing moved.
	wantCancelled(t, s.Send(ctx, 1), context.Canceled)
	if _, err := r.TryReceive(); err != trio.ErrWouldBlock {
		t.Fatalf("TryReceive after a cancelled Send = %v, want ErrWouldBlock", err)
	}
	if err := s.TrySend(2); err != nil {
		t.Fatal(err)
	}
	_, err := r.Receive(ctx)
	wantCancelled(t, err, context.Canceled)
	if v, err := r.TryReceive(); v != 2 || err != nil {
		t.Fatalf("TryReceive after a cancelled Receive = %v, %v; want 2", v, err)
	}
}

// TestMemoryChannelCancelRace cancels a blocked operation and, at once,
// completes it from the other side; whichever wins, both sides must agree
// on whether the value moved.
func TestMemoryChannelCancelRace(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, r := trio.OpenMemoryChannel[int](0)
		var delivered, withdrawn [2]int
		for i := range 400 {
			ctx, cancel := context.WithCancel(t.Context())
			got := goReceive(ctx, r)
			synctest.Wait()
			cancel()
			if i%2 == 1 {
				runtime.Gosched() // give the receiver a chance to withdraw first
			}
			err := s.TrySend(i)
			res := <-got
			switch {
			case err == nil && res.err == nil && res.v == i:
				delivered[0]++
			case err == trio.ErrWouldBlock && errors.Is(res.err, trio.ErrCancelled):
				withdrawn[0]++
			default:
				t.Fatalf("TrySend = %v while a cancelled Receive returned %+v", err, res)
			}

			ctx, cancel = context.WithCancel(t.Context())
			sent := goSend(ctx, s, i)
			synctest.Wait()
			cancel()
			if i%2 == 1 {
				runtime.Gosched()
			}
			v, err := r.TryReceive()
			serr := <-sent
			switch {
			case err == nil && v == i && serr == nil:
				delivered[1]++
			case err == trio.ErrWouldBlock && errors.Is(serr, trio.ErrCancelled):
				withdrawn[1]++
			default:
				t.Fatalf("TryReceive = %v, %v while a cancelled Send returned %v", v, err, serr)
			}
		}
		t.Logf("receive: %d delivered, %d withdrawn; send: %d delivered, %d withdrawn",
			delivered[0], withdrawn[0], delivered[1], withdrawn[1])
	})
}

func TestMemoryChannelAll(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, r := trio.OpenMemoryChannel[int](0)
		var got []int
		err := trio.OpenNursery(t.Context(), func(ctx context.Context, n *trio.Nursery) error {
			n.StartSoon(func(ctx context.Context) error {
				defer s.Close()
				for i := range 5 {
					if err := s.Send(ctx, i); err != nil {
						return err
					}
				}
				return nil
			})
			for v, err := range r.All(ctx) {
				if err != nil {
					return err
				}
				got = append(got, v)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("OpenNursery = %v", err)
		}
		if !slices.Equal(got, []int{0, 1, 2, 3, 4}) {
			t.Fatalf("All yielded %v", got)
		}
	})
}

func TestMemoryChannelAllCancelled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, r := trio.OpenMemoryChannel[int](2)
		s.TrySend(1)
		s.TrySend(2)
		var vals []int
		var errs []error
		movedOn, err := trio.MoveOnAfter(t.Context(), time.Second, func(ctx context.Context) error {
			// A careless loop that does not stop at the error: the
			// iterator yields the error once and ends by itself.
			for v, err := range r.All(ctx) {
				if err != nil {
					errs = append(errs, err)
					continue
				}
				vals = append(vals, v)
			}
			if len(errs) > 0 {
				return errs[0]
			}
			return nil
		})
		if !movedOn || err != nil {
			t.Fatalf("MoveOnAfter = %v, %v", movedOn, err)
		}
		if !slices.Equal(vals, []int{1, 2}) {
			t.Fatalf("values = %v, want [1 2]", vals)
		}
		if len(errs) != 1 {
			t.Fatalf("errors yielded = %v, want one cancellation", errs)
		}
		wantCancelled(t, errs[0], context.DeadlineExceeded)
	})
}

func TestMemoryChannelAllBreak(t *testing.T) {
	s, r := trio.OpenMemoryChannel[int](5)
	for i := range 5 {
		s.TrySend(i)
	}
	s.Close()
	for v, err := range r.All(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		if v == 1 {
			break
		}
	}
	var rest []int
	for v, err := range r.All(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		rest = append(rest, v)
	}
	if !slices.Equal(rest, []int{2, 3, 4}) {
		t.Fatalf("after break, the rest = %v, want [2 3 4]", rest)
	}
}

// TestMemoryChannelStress has several senders and receivers, each on its
// own clone, race with random cancellations, and checks that every value
// whose Send returned nil was received exactly once and no other value was
// received. It runs on the real clock, not in a synctest bubble, so that
// cancellations land at arbitrary moments (a bubble's clock only moves when
// every goroutine is blocked); nothing in it waits for time to pass.
func TestMemoryChannelStress(t *testing.T) {
	n := 20000
	if testing.Short() {
		n = 2000
	}
	for _, size := range []int{0, 1, 8, trio.UnboundedBuffer} {
		t.Run(sizeName(size), func(t *testing.T) { stressChannel(t, size, n) })
	}
}

func sizeName(size int) string {
	if size == trio.UnboundedBuffer {
		return "unbounded"
	}
	return "size" + strconv.Itoa(size)
}

func stressChannel(t *testing.T, size, n int) {
	const senders, receivers = 4, 4
	var (
		sent     = make([]bool, n) // written by the value's own sender only
		notSent  = make([]bool, n)
		received = make([]atomic.Int32, n)
	)
	randomDelay := func(rng *rand.Rand) time.Duration {
		return time.Duration(rng.IntN(30)) * time.Microsecond
	}
	s, r := trio.OpenMemoryChannel[int](size)
	err := trio.OpenNursery(t.Context(), func(ctx context.Context, nu *trio.Nursery) error {
		for k := range senders {
			s := mustClone(t, s)
			nu.StartSoon(func(ctx context.Context) error {
				defer s.Close()
				rng := rand.New(rand.NewPCG(uint64(k), 1))
				for v := k; v < n; v += senders {
					var err error
					if rng.IntN(2) == 0 {
						err = s.Send(ctx, v)
					} else {
						// Cancelled by a trio deadline.
						_, _ = trio.MoveOnAfter(ctx, randomDelay(rng), func(ctx context.Context) error {
							err = s.Send(ctx, v)
							return err
						})
					}
					switch {
					case err == nil:
						sent[v] = true
					case errors.Is(err, trio.ErrCancelled):
						notSent[v] = true
					default:
						t.Errorf("Send(%d) = %v", v, err)
						return err
					}
				}
				return nil
			})
		}
		s.Close()
		for k := range receivers {
			r := mustClone(t, r)
			nu.StartSoon(func(ctx context.Context) error {
				defer r.Close()
				rng := rand.New(rand.NewPCG(uint64(k), 2))
				for {
					rctx, stop := ctx, func() {}
					if rng.IntN(2) == 0 {
						// Cancelled by a foreign context, from another goroutine.
						c, cancel := context.WithCancel(ctx)
						tm := time.AfterFunc(randomDelay(rng), cancel)
						rctx, stop = c, func() { tm.Stop(); cancel() }
					}
					v, err := r.Receive(rctx)
					stop()
					switch {
					case err == nil:
						received[v].Add(1)
					case err == trio.ErrEndOfChannel:
						return nil
					case errors.Is(err, trio.ErrCancelled) && errors.Is(err, context.Canceled):
					default:
						t.Errorf("Receive = %v", err)
						return err
					}
				}
			})
		}
		r.Close()
		return nil
	})
	if err != nil {
		t.Fatalf("OpenNursery = %v", err)
	}
	var nSent, nNotSent int
	for v := range n {
		got := received[v].Load()
		switch {
		case sent[v] && notSent[v]:
			t.Fatalf("value %d both sent and not sent", v)
		case sent[v]:
			nSent++
			if got != 1 {
				t.Fatalf("value %d was sent and received %d times", v, got)
			}
		case notSent[v]:
			nNotSent++
			if got != 0 {
				t.Fatalf("value %d was not sent but received %d times", v, got)
			}
		default:
			t.Fatalf("value %d never attempted", v)
		}
	}
	if nNotSent == 0 {
		t.Logf("no Send was cancelled: the test did not exercise cancellation")
	}
	t.Logf("%d sent, %d cancelled", nSent, nNotSent)
}
