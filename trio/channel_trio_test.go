package trio_test

// Transcriptions of cases of Trio's src/trio/_tests/test_channel.py, each
// named after the Trio test (the parts the other tests of this package do
// not check already).

import (
	"context"
	"testing"
	"testing/synctest"

	"github.com/trioasyncio/trioasyncio/trio"
)

// test_statistics: peak_buffer_used is the buffer's high-water mark, which
// draining the buffer does not reset; the other fields are checked by the
// other channel tests.
func TestChannelStatistics(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, r := trio.OpenMemoryChannel[int](2)
		if p := s.Statistics().PeakBufferUsed; p != 0 {
			t.Fatalf("PeakBufferUsed = %d, want 0", p)
		}
		s.TrySend(1)
		if p := r.Statistics().PeakBufferUsed; p != 1 {
			t.Fatalf("PeakBufferUsed = %d, want 1", p)
		}
		s.TrySend(2)
		ctx, cancel := context.WithCancel(t.Context())
		for range 2 {
			go s.Send(ctx, 3) // blocked: the buffer is full
		}
		synctest.Wait()
		if st := s.Statistics(); st.CurrentBufferUsed != 2 || st.PeakBufferUsed != 2 || st.TasksWaitingSend != 2 {
			t.Fatalf("statistics = %+v; want 2 used, peak 2, 2 senders waiting", st)
		}
		cancel()
		synctest.Wait()
		for {
			if _, err := r.TryReceive(); err != nil {
				break
			}
		}
		if st := s.Statistics(); st.CurrentBufferUsed != 0 || st.PeakBufferUsed != 2 || st.TasksWaitingSend != 0 {
			t.Fatalf("statistics after draining = %+v; want 0 used, peak still 2, nobody waiting", st)
		}
	})
}

// test_channel_fairness: a goroutine may take back a value it just sent
// when nobody else waits; but a waiting receiver owns the value sent next,
// and a waiting sender owns the place freed next in the buffer, so nobody
// can barge in ahead of them.
func TestChannelFairness(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, r := trio.OpenMemoryChannel[int](1)
		for _, v := range []int{1, 2} {
			s.TrySend(v)
			if got, err := r.TryReceive(); got != v || err != nil {
				t.Fatalf("TryReceive = %d, %v; want %d", got, err, v)
			}
		}

		// A waiting receiver owns the item we send.
		got := make(chan int, 1)
		go func() {
			v, err := r.Receive(t.Context())
			if err != nil {
				t.Error(err)
			}
			got <- v
		}()
		synctest.Wait()
		if err := s.TrySend(2); err != nil {
			t.Fatal(err)
		}
		if v, err := r.TryReceive(); err != trio.ErrWouldBlock {
			t.Fatalf("TryReceive took %d, %v ahead of the waiting receiver", v, err)
		}
		if v := <-got; v != 2 {
			t.Fatalf("the waiting receiver got %d, want 2", v)
		}

		// A waiting sender owns the freed place in the buffer.
		s, r = trio.OpenMemoryChannel[int](1)
		s.TrySend(1)
		if err := s.TrySend(0); err != trio.ErrWouldBlock {
			t.Fatalf("TrySend into a full buffer = %v", err)
		}
		sent := make(chan error, 1)
		go func() { sent <- s.Send(t.Context(), 2) }()
		synctest.Wait()
		if v, _ := r.TryReceive(); v != 1 {
			t.Fatalf("TryReceive = %d, want 1", v)
		}
		if err := s.TrySend(3); err != trio.ErrWouldBlock {
			t.Fatalf("TrySend = %v, barging ahead of the waiting sender", err)
		}
		if v, err := r.Receive(t.Context()); v != 2 || err != nil {
			t.Fatalf("Receive = %d, %v; want the waiting sender's 2", v, err)
		}
		if err := <-sent; err != nil {
			t.Fatal(err)
		}
	})
}

// test_receive_channel_clone_and_close: closed receive handles cannot be
// cloned; the channel's receive side stays open while one handle is open,
// and then sends fail with ErrBrokenResource.
func TestReceiveChannelCloneAndClose(t *testing.T) {
	s, r := trio.OpenMemoryChannel[struct{}](10)
	r2, _ := r.Clone()
	r3, _ := r.Clone()
	if err := s.TrySend(struct{}{}); err != nil {
		t.Fatal(err)
	}
	r.Close()
	r2.Close()
	if c, err := r.Clone(); c != nil || err != trio.ErrClosedResource {
		t.Errorf("r.Clone() = %v, %v; want nil, ErrClosedResource", c, err)
	}
	if c, err := r2.Clone(); c != nil || err != trio.ErrClosedResource {
		t.Errorf("r2.Clone() = %v, %v; want nil, ErrClosedResource", c, err)
	}
	if err := s.TrySend(struct{}{}); err != nil { // r3 is still open
		t.Errorf("TrySend with r3 open = %v", err)
	}
	r3.Close()
	if err := s.TrySend(struct{}{}); err != trio.ErrBrokenResource {
		t.Errorf("TrySend with every receive handle closed = %v, want ErrBrokenResource", err)
	}
}
