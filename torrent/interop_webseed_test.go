package torrent

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Web seed interop: torrents downloaded with no peers at all from real
// web servers: lighttpd (keep-alive, 206 ranges) and busybox httpd (one
// request per connection).

// startLighttpd serves root on a free loopback port and returns its base
// URL, ending in '/'.
func startLighttpd(t *testing.T, root string) string {
	t.Helper()
	bin := needTool(t, "lighttpd", "lighttpd")
	port := freeTCPPort(t)
	dir := t.TempDir()
	conf := filepath.Join(dir, "lighttpd.conf")
	err := os.WriteFile(conf, []byte(fmt.Sprintf(`server.document-root = %q
server.port = %d
server.bind = "127.0.0.1"
server.errorlog = %q
mimetype.assign = ( "" => "application/octet-stream" )
`, root, port, filepath.Join(dir, "error.log"))), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	startChild(t, 2*time.Minute, "", bin, "-D", "-f", conf)
	return waitHTTP(t, port)
}

// startBusybox serves root with busybox httpd on a free loopback port.
func startBusybox(t *testing.T, root string) string {
	t.Helper()
	bin := needTool(t, "busybox", "busybox")
	port := freeTCPPort(t)
	startChild(t, 2*time.Minute, "", bin, "httpd", "-f", "-p", fmt.Sprintf("127.0.0.1:%d", port), "-h", root)
	return waitHTTP(t, port)
}

// waitHTTP waits until the server takes connections on port.
func waitHTTP(t *testing.T, port int) string {
	t.Helper()
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	for i := 0; ; i++ {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return "http://" + addr + "/"
		}
		if i == 100 {
			t.Fatalf("web server not listening on %s after 5 s: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func testWebSeedServer(t *testing.T, start func(*testing.T, string) string, directSingle bool) {
	t.Run("multi-file", func(t *testing.T) {
		src := t.TempDir()
		base := start(t, src)
		m := buildWebSeedTorrent(t, src, "web seed ü", true, webSeedFiles, 16<<10, []string{base})
		dst, _ := webSeedOnly(t, m, SessionOptions{})
		sameTree(t, src, dst)
	})
	t.Run("single-file", func(t *testing.T) {
		src := t.TempDir()
		base := start(t, src)
		url := base
		if directSingle {
			url = base + "one%20file%20%C3%BC.bin"
		}
		m := buildWebSeedTorrent(t, src, "one file ü.bin", false, []wsFile{{path: []string{"x"}, size: 300_001}}, 32<<10, []string{url})
		dst, _ := webSeedOnly(t, m, SessionOptions{})
		sameTree(t, src, dst)
	})
}

func TestInteropWebSeedLighttpd(t *testing.T) { testWebSeedServer(t, startLighttpd, false) }

func TestInteropWebSeedBusybox(t *testing.T) { testWebSeedServer(t, startBusybox, true) }
