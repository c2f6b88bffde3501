package store

import (
	"hash/fnv"
	"testing"

	"github.com/backupreport/backupreport/parser"
)

func TestDigestIsFNV1a(t *testing.T) {
	h := fnv.New64a()
	h.Write([]byte("kind\x00"))
	d := fnvOffset
	d.string("kind")
	if uint64(d) != h.Sum64() {
		t.Errorf("digest %x, FNV-1a %x", uint64(d), h.Sum64())
	}
}

// TestDigestOfNewAndStoredAgree checks that a judgment and the rows it is
// stored as give the same digest, and that each field counts.
func TestDigestOfNewAndStoredAgree(t *testing.T) {
	ex := []Exception{{ID: 7, Pattern: "*.pst"}, {ID: 9, Pattern: "*.qbw"}}
	errs := []parser.FileError{
		{Line: 3, Kind: parser.KindOpenFailed, Path: "/x/mail.pst", Excepted: true, Exception: "*.pst"},
		{Line: 5, Kind: parser.KindVanished, Path: "/x/tmp"},
	}
	seven := int64(7)
	rows := []StoredFileError{
		{Line: 3, Kind: string(parser.KindOpenFailed), Path: "/x/mail.pst", Excepted: true, ExceptionID: &seven},
		{Line: 5, Kind: string(parser.KindVanished), Path: "/x/tmp"},
	}
	want := digestOf(errs, ex)
	if got := digestOfStored(rows); got != want {
		t.Fatalf("stored rows digest %x, judgment %x", got, want)
	}
	nine := int64(9)
	for name, change := range map[string]func(r []StoredFileError){
		"line":             func(r []StoredFileError) { r[1].Line = 6 },
		"kind":             func(r []StoredFileError) { r[1].Kind = string(parser.KindOpenFailed) },
		"path":             func(r []StoredFileError) { r[0].Path = "/x/mail2.pst" },
		"exception":        func(r []StoredFileError) { r[0].ExceptionID = &nine },
		"exception gone":   func(r []StoredFileError) { r[0].ExceptionID = nil },
		"no longer except": func(r []StoredFileError) { r[0].Excepted, r[0].ExceptionID = false, nil },
		"a row less":       func(r []StoredFileError) { r[1] = StoredFileError{} },
	} {
		c := append([]StoredFileError{}, rows...)
		change(c)
		if name == "a row less" {
			c = c[:1]
		}
		if digestOfStored(c) == want {
			t.Errorf("%s: the digest did not change", name)
		}
	}
	if digestOf(nil, ex) == want || digestOf(nil, nil) != digestOfStored(nil) {
		t.Error("no file errors: digests disagree")
	}
}

// TestExceptionsOfMatchesExceptionsFor checks that a run picks each
// server's exceptions as ExceptionsFor does.
func TestExceptionsOfMatchesExceptionsFor(t *testing.T) {
	ctx := t.Context()
	db, err := Open(ctx, DSNForTest(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, c := range []string{"acme", "beta"} {
		if _, err := db.AddCustomer(ctx, "t", Customer{Slug: c}); err != nil {
			t.Fatal(err)
		}
	}
	a1, _ := db.AddServer(ctx, "t", "acme", "fs01", false)
	a2, _ := db.AddServer(ctx, "t", "acme", "fs02", false)
	b1, _ := db.AddServer(ctx, "t", "beta", "fs01", false)
	for _, e := range [][2]string{{"global", "*.tmp"}, {"acme", "*.pst"}, {"acme/fs01", "*.qbw"}, {"beta", "*.ost"}, {"beta/fs01", "*.mdb"}, {"acme/fs02", "*.ldb"}} {
		if _, err := db.AddException(ctx, "t", e[0], e[1], ""); err != nil {
			t.Fatal(err)
		}
	}
	run, err := db.ExceptionsSnapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []Server{a1, a2, b1} {
		want, err := db.ExceptionsFor(ctx, s.ID)
		if err != nil {
			t.Fatal(err)
		}
		got := run.Of(s.ID, run.CustomerOf[s.ID])
		if len(got) != len(want) {
			t.Fatalf("server %d: %d exceptions, ExceptionsFor has %d", s.ID, len(got), len(want))
		}
		for i := range got {
			if got[i].ID != want[i].ID {
				t.Errorf("server %d: exception %d is %d, ExceptionsFor has %d", s.ID, i, got[i].ID, want[i].ID)
			}
		}
	}
}
