//go:build !linux

// Miniloop is a miniature of aiotorrent's runtime built directly on
// epoll, so it runs on Linux only; aio itself also has a kqueue backend.
package main

import "fmt"

func main() {
	fmt.Println("miniloop is built on epoll and runs on Linux only; see README.md")
}
