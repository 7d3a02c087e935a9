package gojaloop

import (
	"time"

	"github.com/dop251/goja"
	"github.com/dop251/goja_nodejs/require"
)

// The drop-in promise, checked by the compiler: every exported function
// and method of goja_nodejs's eventloop (its signatures are spelled out in
// dropIn) exists here with the same shape.
type dropIn[L, T, I, O any] struct {
	newLoop         func(...O) *L
	enableConsole   func(bool) O
	withRegistry    func(*require.Registry) O
	run             func(*L, func(*goja.Runtime))
	start           func(*L)
	startForeground func(*L)
	stop            func(*L) int
	stopNoWait      func(*L)
	terminate       func(*L)
	runOnLoop       func(*L, func(*goja.Runtime)) bool
	setTimeout      func(*L, func(*goja.Runtime), time.Duration) *T
	clearTimeout    func(*L, *T)
	setInterval     func(*L, func(*goja.Runtime), time.Duration) *I
	clearInterval   func(*L, *I)
}

var _ = dropIn[EventLoop, Timer, Interval, Option]{
	NewEventLoop, EnableConsole, WithRegistry,
	(*EventLoop).Run, (*EventLoop).Start, (*EventLoop).StartInForeground,
	(*EventLoop).Stop, (*EventLoop).StopNoWait, (*EventLoop).Terminate,
	(*EventLoop).RunOnLoop,
	(*EventLoop).SetTimeout, (*EventLoop).ClearTimeout,
	(*EventLoop).SetInterval, (*EventLoop).ClearInterval,
}
