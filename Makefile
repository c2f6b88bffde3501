# The two commands of the README: "make run" and "make test".
.PHONY: build run test test-deps bench bench-speed fuzz attack durability

GO ?= go
BIN := bin/backupreport
# -trimpath and -s -w: a 20 MB binary instead of 29 MB, fewer pages for the
# kernel to map at every command's start (issue 11's start-up target).
BUILDFLAGS := -trimpath -ldflags='-s -w'
# CGO_ENABLED=0: a static binary. With cgo, net and os/user link the C
# library, and every command then starts the dynamic loader and C's
# threads first: about 1.5 ms of each start-up. Nothing here needs C (SQLite
# is modernc's Go translation); DNS then uses Go's resolver (Go's default
# on Linux anyway) and os/user reads /etc/passwd.
build:
	CGO_ENABLED=0 $(GO) build $(BUILDFLAGS) -o $(BIN) ./cmd/backupreport

# Fill ./data with demo data (only when it is new or demo data already), then serve it.
run: build
	$(BIN) demo --data ./data --if-new
	$(BIN) serve --data ./data

# Install what the tests drive for real (rsync, OpenSSH, PuTTY, chromium, PostgreSQL), then run
# them all; then the store's tests a second time on PostgreSQL (a throwaway cluster, store/pgtest).
test: test-deps
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 30m ./...
	BACKUPREPORT_TEST_DATABASE=postgres $(GO) test -race -count=1 -timeout 30m ./store/...

test-deps:
	./scripts/install-test-deps.sh

# Print the speed figures each issue asks for.
bench: build
	./scripts/bench-parser.sh
	./scripts/bench-startup.sh
	./scripts/bench-ingest.sh
	./scripts/bench-memory.sh

# Issue 13: uploads/s of serve against OpenSSH sshd and the bare SSH floor (about 2 minutes),
# then the hot paths' Go benchmarks. Flags go in BENCH_FLAGS, e.g. BENCH_FLAGS='--levels 1,8 --night 1000'.
bench-speed: build
	$(BIN) bench $(BENCH_FLAGS)
	$(GO) test -run '^$$' -bench 'Judge|Parse9MB' -benchmem ./parser
	$(GO) test -run '^$$' -bench 'CommitResult|KeyLookup' -benchmem ./store

# Issue 10's proofs, against bin/backupreport; each exits 1 when a goal is missed.
# attack: the attacks from 127.0.0.x on a server with an 8,192 file limit (about 5 minutes).
# durability: 15 kill -9 cycles under 64 parallel uploaders (its 3-cycle form is a Go test).
# Flags go in ATTACK_FLAGS / DURABILITY_FLAGS, e.g. make attack ATTACK_FLAGS='-scale 0.1 -phases logins,env'.
attack: build
	$(GO) build -o bin/attack ./scripts/attack
	bin/attack $(ATTACK_FLAGS)

durability: build
	$(GO) build -o bin/durability ./scripts/durability
	bin/durability $(DURABILITY_FLAGS)
