// Chat is a chat server on an asyncio loop, in streams style: each
// connection is a coroutine, and the set of connected users is a plain
// map that needs no lock, since only the loop touches it. Many trio
// clients join, greet, and read everyone else's greeting; then the block
// ends and every connection with it.
//
//	go run ./examples/chat -clients 50
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"strings"
	"sync"

	"github.com/trioasyncio/trioasyncio/asyncio"
	"github.com/trioasyncio/trioasyncio/trio"
)

func main() {
	clients := flag.Int("clients", 10, "how many users join")
	flag.Parse()
	if err := trio.Run(func(ctx context.Context) error { return run(ctx, os.Stdout, *clients) }); err != nil {
		log.Fatal(err)
	}
}

// room is the server's state: loop-confined, so no lock.
type room struct {
	users map[*asyncio.StreamWriter]string
}

func (rm *room) serve(ctx context.Context, r *asyncio.StreamReader, w *asyncio.StreamWriter) error {
	defer w.Close()
	name, err := r.ReadLine(ctx)
	if err != nil {
		return err
	}
	me := strings.TrimSpace(string(name))
	rm.users[w] = me
	defer delete(rm.users, w)
	w.Write([]byte("welcome " + me + "\n"))
	for line, err := range r.Lines(ctx) {
		if err != nil {
			return err
		}
		for other := range rm.users {
			if other != w {
				other.Write([]byte(me + ": " + string(line)))
			}
		}
	}
	return nil
}

func run(ctx context.Context, out io.Writer, clients int) error {
	return asyncio.OpenLoop(ctx, func(ctx context.Context, loop *asyncio.Loop) error {
		rm := &room{users: map[*asyncio.StreamWriter]string{}}
		srv, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (*asyncio.Server, error) {
			return asyncio.StartServer(ctx, rm.serve, "127.0.0.1", 0, nil)
		})
		if err != nil {
			return err
		}
		port := srv.Sockets()[0].(*net.TCPAddr).Port
		var joined sync.WaitGroup // everyone has been welcomed before anyone speaks
		joined.Add(clients)
		var mu sync.Mutex
		heard := 0
		err = trio.OpenNursery(ctx, func(ctx context.Context, n *trio.Nursery) error {
			for i := range clients {
				n.StartSoon(func(ctx context.Context) error {
					got, err := user(ctx, port, fmt.Sprintf("user%d", i), clients-1, &joined)
					mu.Lock()
					heard += got
					mu.Unlock()
					return err
				})
			}
			return nil
		})
		fmt.Fprintf(out, "%d users, each heard the %d others: %d messages delivered\n", clients, clients-1, heard)
		return err
	})
}

// user is a trio client: it joins, waits until everyone has, says hello,
// and reads the others' hellos.
func user(ctx context.Context, port int, name string, others int, joined *sync.WaitGroup) (int, error) {
	s, err := trio.OpenTCPStream(ctx, "127.0.0.1", port)
	if err != nil {
		joined.Done()
		return 0, err
	}
	defer s.Close()
	var buf []byte
	readLine := func() (string, error) {
		for {
			if i := strings.IndexByte(string(buf), '\n'); i >= 0 {
				line := string(buf[:i])
				buf = buf[i+1:]
				return line, nil
			}
			b, err := s.ReceiveSome(ctx, 0)
			if err != nil {
				return "", err
			}
			buf = append(buf, b...)
		}
	}
	s.SendAll(ctx, []byte(name+"\n"))
	_, err = readLine() // welcome
	joined.Done()
	if err != nil {
		return 0, err
	}
	joined.Wait()
	if err := s.SendAll(ctx, []byte("hello from "+name+"\n")); err != nil {
		return 0, err
	}
	for got := range others {
		if _, err := readLine(); err != nil {
			return got, err
		}
	}
	return others, nil
}
