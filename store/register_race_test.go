package store

import (
	"context"
	"sync"
	"testing"
)

// TestTwoNodesRegisterOneServerAtOnce stores uploads naming the same new
// server through two handles on one database (two serve nodes) at once:
// every upload is stored, on one server, registered once.
func TestTwoNodesRegisterOneServerAtOnce(t *testing.T) {
	ctx := context.Background()
	dsn := DSNForTest(t)
	var nodes [2]*DB
	for i := range nodes {
		db, err := Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		nodes[i] = db
	}
	c, err := nodes[0].AddCustomer(ctx, "test", Customer{Slug: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	const each = 6
	var mu sync.Mutex
	registered, stored := 0, map[int64]int{}
	var wg sync.WaitGroup
	for i := range 2 * each {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db := nodes[i%2]
			saved, err := db.StoreUpload(ctx, Upload{Register: &NewServer{CustomerID: c.ID, Name: "NEW01"}, ReceivedAt: db.Now(),
				Night: "2026-01-01", Source: SourceUpload, Protocol: "exec"})
			if err != nil {
				t.Errorf("upload %d: %v", i, err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			stored[saved.Server.ID]++
			if saved.Registered {
				registered++
			}
		}()
	}
	wg.Wait()
	if registered != 1 || len(stored) != 1 {
		t.Errorf("registered %d times, on servers %v; want once, one server", registered, stored)
	}
	for id, n := range stored {
		if n != 2*each {
			t.Errorf("server %d got %d uploads, want %d", id, n, 2*each)
		}
	}
}
