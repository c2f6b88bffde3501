package pgtest_test

import (
	"net"
	"net/url"
	"testing"

	"github.com/backupreport/backupreport/store/pgtest"
)

// Start gives the URL of a cluster that accepts connections.
func TestStart(t *testing.T) {
	dsn := pgtest.Start(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatalf("dial %s: %v", u.Host, err)
	}
	c.Close()
}
