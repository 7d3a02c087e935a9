package trio_test

import (
	"context"
	"sync"
	"testing"

	"golang.org/x/sync/errgroup"

	"github.com/trioasyncio/trioasyncio/trio"
)

// Spawn + join, one op = one child, beside errgroup and sync.WaitGroup.
const spawnBatch = 100

func BenchmarkNurserySpawn(b *testing.B) {
	b.ReportAllocs()
	ctx := context.Background()
	for b.Loop() {
		trio.OpenNursery(ctx, func(ctx context.Context, n *trio.Nursery) error {
			for range spawnBatch {
				n.StartSoon(func(context.Context) error { return nil })
			}
			return nil
		})
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*spawnBatch), "ns/child")
}

func BenchmarkErrgroupSpawn(b *testing.B) {
	b.ReportAllocs()
	ctx := context.Background()
	for b.Loop() {
		g, _ := errgroup.WithContext(ctx)
		for range spawnBatch {
			g.Go(func() error { return nil })
		}
		g.Wait()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*spawnBatch), "ns/child")
}

func BenchmarkWaitGroupSpawn(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		var wg sync.WaitGroup
		for range spawnBatch {
			wg.Go(func() {})
		}
		wg.Wait()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*spawnBatch), "ns/child")
}

// A CancelScope Run with nothing inside, beside context.WithCancel.
func BenchmarkCancelScopeRun(b *testing.B) {
	b.ReportAllocs()
	parent, cancel := context.WithCancel(context.Background())
	defer cancel()
	noop := func(context.Context) error { return nil }
	for b.Loop() {
		var s trio.CancelScope
		s.Run(parent, noop)
	}
}

func BenchmarkContextWithCancel(b *testing.B) {
	b.ReportAllocs()
	parent, cancel := context.WithCancel(context.Background())
	defer cancel()
	for b.Loop() {
		_, c := context.WithCancel(parent)
		c()
	}
}

// A 10-level nest of scopes, cancelled from the top: one op = build the
// nest, cancel the outermost, and see the innermost ctx done.
func BenchmarkCancelNest10(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		var scopes [10]trio.CancelScope
		var nest func(ctx context.Context, i int) error
		nest = func(ctx context.Context, i int) error {
			if i == len(scopes) {
				scopes[0].Cancel()
				<-ctx.Done()
				return trio.Checkpoint(ctx)
			}
			return scopes[i].Run(ctx, func(ctx context.Context) error { return nest(ctx, i+1) })
		}
		nest(context.Background(), 0)
	}
}

func BenchmarkContextNest10(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		root, cancel := context.WithCancel(context.Background())
		ctx := root
		var cancels [9]context.CancelFunc
		for i := range cancels {
			ctx, cancels[i] = context.WithCancel(ctx)
		}
		cancel()
		<-ctx.Done()
		for _, c := range cancels {
			c()
		}
	}
}
