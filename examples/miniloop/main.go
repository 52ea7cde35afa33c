//go:build linux

package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// server accepts connections until it is cancelled, with one echo task
// per connection: a task per connection costs a coroutine, not a thread.
func server(t *Task, ln *FD) error {
	defer ln.Close()
	for {
		c, err := ln.Accept(t)
		if err != nil {
			return err
		}
		t.loop.Spawn(func(t *Task) error { return echo(t, c) })
	}
}

// echo writes back what it reads until the client closes (EOF).
func echo(t *Task, c *FD) error {
	defer c.Close()
	buf := make([]byte, 4096)
	for {
		n, err := c.Read(t, buf)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := c.WriteAll(t, buf[:n]); err != nil {
			return err
		}
	}
}

// client connects to port and, for each message, writes it, reads the
// echo back, hands it to got and sleeps for pause.
func client(t *Task, port int, msgs [][]byte, pause time.Duration, got func(echoed []byte)) error {
	c, err := t.loop.Dial(t, port)
	if err != nil {
		return err
	}
	defer c.Close()
	for _, m := range msgs {
		if err := c.WriteAll(t, m); err != nil {
			return err
		}
		echoed := make([]byte, len(m))
		for n := 0; n < len(echoed); {
			k, err := c.Read(t, echoed[n:])
			if err != nil {
				return fmt.Errorf("read echo: %w", err)
			}
			n += k
		}
		got(echoed)
		if err := t.Sleep(pause); err != nil {
			return err
		}
	}
	return nil
}

// demo: three clients take turns on one echo server, each sleeping
// between messages; a fourth task sleeps for an hour and is cancelled.
func demo(t *Task) error {
	ln, port, err := t.loop.Listen()
	if err != nil {
		return err
	}
	fmt.Printf("echo server on 127.0.0.1:%d\n", port)
	t.loop.Spawn(func(t *Task) error { return server(t, ln) })
	var clients []*Task
	for i := range 3 {
		msgs := [][]byte{[]byte(fmt.Sprintf("hello from client %d", i)), []byte(fmt.Sprintf("bye from client %d", i))}
		clients = append(clients, t.loop.Spawn(func(t *Task) error {
			return client(t, port, msgs, time.Duration(i+1)*50*time.Millisecond, func(b []byte) {
				fmt.Printf("client %d got %q back\n", i, b)
			})
		}))
	}
	sleeper := t.loop.Spawn(func(t *Task) error { return t.Sleep(time.Hour) })
	for _, c := range clients {
		if err := t.Join(c); err != nil {
			return err
		}
	}
	sleeper.Cancel()
	fmt.Printf("hour-long sleeper cancelled: %v\n", t.Join(sleeper))
	return nil // Run now cancels the server, still parked in accept
}

func main() {
	l, err := NewLoop()
	if err == nil {
		err = l.Run(demo)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "miniloop:", err)
		os.Exit(1)
	}
	fmt.Println("loop done, every task returned")
}
