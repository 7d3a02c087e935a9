// JS runs a small JavaScript program on this module's event loop, inside a
// trio nursery, under a deadline: timers, an interval, and a promise that
// awaits a Go-side fetch (an HTTP GET made with the block's ctx, to a
// server in the same nursery). When the script's promise settles the block
// ends, dropping the interval the script forgot; the deadline would
// interrupt the script if it ran too long. When main returns, no goroutine,
// timer or connection is left.
//
//	go run ./examples/js
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/dop251/goja"
	"github.com/trioasyncio/trioasyncio/gojaloop"
	"github.com/trioasyncio/trioasyncio/trio"
)

const script = `
let ticks = 0;
const ticker = setInterval(() => log("tick " + (++ticks)), 100);
setInterval(() => {}, 1000); // forgotten: the block drops it
setTimeout(() => log("a timeout of 250 ms"), 250);

(async () => {
	log("fetching " + url);
	const body = await fetch(url);
	log("fetched: " + body);
	await new Promise(resolve => setTimeout(resolve, 200));
	clearInterval(ticker);
	return "done after " + ticks + " ticks";
})();
`

// out is where the script's log goes (a test captures it).
var out io.Writer = os.Stdout

func main() {
	if err := trio.Run(run); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context) error {
	return trio.OpenNursery(ctx, func(ctx context.Context, n *trio.Nursery) error {
		url, err := trio.Start(ctx, n, serve)
		if err != nil {
			return err
		}
		defer n.CancelScope().Cancel() // the server, once the script is done
		return trio.FailAfter(ctx, 3*time.Second, func(ctx context.Context) error {
			return gojaloop.Open(ctx, func(ctx context.Context, loop *gojaloop.EventLoop) error {
				return runScript(ctx, loop, url)
			}, gojaloop.EnableConsole(false))
		})
	})
}

// runScript runs the script and prints the value its promise settles with.
func runScript(ctx context.Context, loop *gojaloop.EventLoop, url string) error {
	start := time.Now()
	v, err := loop.Await(ctx, func(vm *goja.Runtime) (goja.Value, error) {
		vm.Set("url", url)
		vm.Set("log", func(s string) {
			fmt.Fprintf(out, "%4d ms  %s\n", time.Since(start).Milliseconds(), s)
		})
		vm.Set("fetch", loop.Async(func(ctx context.Context, args []any) (any, error) {
			url, _ := args[0].(string)
			return fetch(ctx, url)
		}))
		return vm.RunString(script)
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%4d ms  result: %s\n", time.Since(start).Milliseconds(), v.Export())
	return nil
}

// fetch is trio-flavored Go: an HTTP GET that the block's ctx cancels.
func fetch(ctx context.Context, url string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return string(body), err
}

// serve runs an HTTP server on a local port until ctx is cancelled,
// reporting its URL through started.
func serve(ctx context.Context, started func(string)) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select { // a slow server: the interval ticks meanwhile
		case <-time.After(150 * time.Millisecond):
		case <-r.Context().Done():
			return
		}
		fmt.Fprint(w, "hello from Go")
	})}
	started("http://" + ln.Addr().String() + "/greeting")
	return trio.OpenNursery(ctx, func(ctx context.Context, n *trio.Nursery) error {
		n.StartSoon(func(context.Context) error {
			if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		})
		<-ctx.Done()
		http.DefaultClient.CloseIdleConnections()
		return srv.Shutdown(context.Background())
	})
}
