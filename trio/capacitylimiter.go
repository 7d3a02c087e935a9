package trio

import (
	"context"
	"fmt"
	"math"
	"sync"
)

// A CapacityLimiter limits how many goroutines use a resource at once
// (Trio's trio.CapacityLimiter): a sack of TotalTokens tokens, from which
// borrowers take one each and put it back when done; when the sack is
// empty, Acquire waits in line. It is strictly fair, like [Lock].
//
// A borrower is whoever holds a token: any comparable value (a request, a
// connection, a worker's name), given to the OnBehalfOf methods; the
// limiter remembers it and enforces one token per borrower. Acquire,
// TryAcquire and Release borrow anonymously instead, and anonymous tokens
// are only counted: Release takes no ctx, so it could not tell which task
// gives a token back. To borrow as the current task, as Trio's acquire
// does, pass [CurrentTask](ctx) as the borrower. Mixing the two is fine.
//
// The total may be 0, which admits nobody until it is raised, or
// [UnlimitedTokens], which admits everybody at once (Trio's
// CapacityLimiter(math.inf)) while still counting and checking borrowers.
//
// Misuse is a programming error and panics, as Trio raises RuntimeError:
// a borrower that holds a token (or is waiting for one) asking for
// another, releasing on behalf of a borrower that holds none, an anonymous
// Release with no anonymous token out, a nil borrower, or a negative total.
//
// Make CapacityLimiters with [NewCapacityLimiter]. A CapacityLimiter must
// not be copied after first use. It is safe for use by multiple goroutines.
//
// Cost: as for [Lock]; the OnBehalfOf methods also keep the borrower in a
// map.
type CapacityLimiter struct {
	mu        sync.Mutex
	total     int
	borrowed  int          // tokens out, named and anonymous
	anonymous int          // anonymous tokens out
	holders   map[any]bool // named borrowers: true holding, false waiting
	lot       parkingLot   // non-empty only while borrowed >= total
}

// UnlimitedTokens, given as a CapacityLimiter's total, makes it unlimited:
// every Acquire succeeds at once (Trio's CapacityLimiter(math.inf)). It is
// math.MaxInt: any total that large is unlimited, and TotalTokens and
// AvailableTokens then report UnlimitedTokens.
const UnlimitedTokens = math.MaxInt

// NewCapacityLimiter returns a CapacityLimiter with total tokens: 0 admits
// nobody until SetTotalTokens raises it; [UnlimitedTokens] admits
// everybody. It panics if total is negative.
func NewCapacityLimiter(total int) *CapacityLimiter {
	checkTotalTokens(total)
	return &CapacityLimiter{total: total, holders: make(map[any]bool)}
}

func checkTotalTokens(n int) {
	if n < 0 {
		panic(fmt.Sprintf("trio: CapacityLimiter total tokens must be >= 0, not %d", n))
	}
}

// Acquire borrows a token anonymously, waiting in line while none is
// available. It returns nil once it holds a token, or, holding nothing,
// ctx's cancellation (matching [ErrCancelled]) if ctx is done first, or
// already done on entry. If ctx is cancelled at the moment a token is
// handed over, Acquire may return nil: the caller then holds the token.
func (c *CapacityLimiter) Acquire(ctx context.Context) error {
	return c.acquire(ctx, nil)
}

// TryAcquire borrows a token anonymously if one is available (and nobody
// is waiting) and reports whether it did.
func (c *CapacityLimiter) TryAcquire() bool {
	return c.tryAcquire(nil)
}

// Release puts back a token borrowed anonymously, handing it to the
// borrower that has waited longest, if any. It panics if no anonymous
// token is out.
func (c *CapacityLimiter) Release() {
	c.release(nil)
}

// AcquireOnBehalfOf is Acquire for borrower, a comparable value. It
// panics if borrower is nil or already holds or waits for a token of c.
func (c *CapacityLimiter) AcquireOnBehalfOf(ctx context.Context, borrower any) error {
	checkBorrower(borrower)
	return c.acquire(ctx, borrower)
}

// TryAcquireOnBehalfOf is TryAcquire for borrower, a comparable value. It
// panics if borrower is nil or already holds or waits for a token of c.
func (c *CapacityLimiter) TryAcquireOnBehalfOf(borrower any) bool {
	checkBorrower(borrower)
	return c.tryAcquire(borrower)
}

// ReleaseOnBehalfOf puts back the token that borrower holds, handing it to
// the borrower that has waited longest, if any. It panics if borrower
// holds no token of c.
func (c *CapacityLimiter) ReleaseOnBehalfOf(borrower any) {
	checkBorrower(borrower)
	c.release(borrower)
}

func checkBorrower(b any) {
	if b == nil {
		panic("trio: CapacityLimiter borrower must not be nil")
	}
}

// TotalTokens returns the capacity.
func (c *CapacityLimiter) TotalTokens() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.total
}

// SetTotalTokens changes the capacity to n (0 and [UnlimitedTokens]
// included). Raising it hands the new tokens to waiting borrowers at once,
// oldest first. Lowering it below BorrowedTokens takes nothing back: the
// holders finish as usual, and nobody new gets a token until fewer than n
// are out. It panics if n is negative.
func (c *CapacityLimiter) SetTotalTokens(n int) {
	checkTotalTokens(n)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.total = n
	c.lendToWaitersLocked()
}

// BorrowedTokens returns the number of tokens out. It may exceed
// TotalTokens for a while after SetTotalTokens lowered it.
func (c *CapacityLimiter) BorrowedTokens() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.borrowed
}

// AvailableTokens returns TotalTokens - BorrowedTokens, which is negative
// for a while after SetTotalTokens lowered the total below BorrowedTokens;
// for an unlimited limiter, it is [UnlimitedTokens].
func (c *CapacityLimiter) AvailableTokens() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.total == UnlimitedTokens {
		return UnlimitedTokens
	}
	return c.total - c.borrowed
}

// CapacityLimiterStatistics describes a CapacityLimiter at one moment
// (Trio's CapacityLimiterStatistics).
type CapacityLimiterStatistics struct {
	BorrowedTokens int // tokens out, named and anonymous
	TotalTokens    int // the capacity; UnlimitedTokens if unlimited
	// Borrowers are the named borrowers holding a token, in no particular
	// order. Anonymous tokens (Acquire, TryAcquire) have no borrower to
	// list: there are BorrowedTokens - len(Borrowers) of them.
	Borrowers    []any
	TasksWaiting int // goroutines blocked in Acquire or AcquireOnBehalfOf
}

// Statistics describes the limiter (Trio's statistics).
func (c *CapacityLimiter) Statistics() CapacityLimiterStatistics {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := CapacityLimiterStatistics{
		BorrowedTokens: c.borrowed,
		TotalTokens:    c.total,
		TasksWaiting:   c.lot.len(),
	}
	for b, holding := range c.holders {
		if holding {
			st.Borrowers = append(st.Borrowers, b)
		}
	}
	return st
}

// acquire borrows a token for b (nil: anonymous), waiting if need be.
func (c *CapacityLimiter) acquire(ctx context.Context, b any) error {
	if err := cancelError(ctx); err != nil {
		return err
	}
	w := c.lendOrPark(b)
	if w == nil {
		return nil
	}
	var abandon func()
	if b != nil {
		abandon = func() { delete(c.holders, b) }
	}
	return w.wait(ctx, &c.mu, abandon)
}

// lendOrPark lends a token to b if one is free and returns nil, or parks
// and returns a waiter for b.
func (c *CapacityLimiter) lendOrPark(b any) *waiter {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tryLendLocked(b) {
		return nil
	}
	if b != nil {
		c.holders[b] = false // waiting: asking again for b is misuse too
	}
	return c.lot.park(&waiter{borrower: b})
}

// tryAcquire lends a token to b (nil: anonymous) if one is free.
func (c *CapacityLimiter) tryAcquire(b any) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tryLendLocked(b)
}

// tryLendLocked lends a token to b if one is free. It panics if b already
// holds or waits for one.
func (c *CapacityLimiter) tryLendLocked(b any) bool {
	if _, dup := c.holders[b]; dup {
		panic("trio: this borrower is already holding (or waiting for) one of this CapacityLimiter's tokens")
	}
	if c.borrowed >= c.total { // a waiter implies this: no barging
		return false
	}
	c.lendLocked(b)
	return true
}

// lendLocked records that b (nil: anonymous) holds a token.
func (c *CapacityLimiter) lendLocked(b any) {
	c.borrowed++
	if b == nil {
		c.anonymous++
	} else {
		c.holders[b] = true
	}
}

// release takes back the token b (nil: anonymous) holds, and lends it on.
func (c *CapacityLimiter) release(b any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if b == nil {
		if c.anonymous == 0 {
			panic("trio: CapacityLimiter.Release without an anonymous token out")
		}
		c.anonymous--
	} else {
		if !c.holders[b] {
			panic("trio: this borrower isn't holding any of this CapacityLimiter's tokens")
		}
		delete(c.holders, b)
	}
	c.borrowed--
	c.lendToWaitersLocked()
}

// lendToWaitersLocked hands the available tokens to the oldest waiters.
func (c *CapacityLimiter) lendToWaitersLocked() {
	for c.borrowed < c.total {
		w := c.lot.unpark()
		if w == nil {
			return
		}
		c.lendLocked(w.borrower)
	}
}
