# The two commands of the README: "make run" and "make test".
GO ?= go
BIN := bin/backupreport

.PHONY: build run test test-deps bench fuzz

build:
	$(GO) build -o $(BIN) ./cmd/backupreport

# Fill ./data with demo data (only when it is new or demo data already), then serve it.
run: build
	$(BIN) demo --data ./data --if-new
	$(BIN) serve --data ./data

# Install what the tests drive for real (rsync, OpenSSH, PuTTY, chromium), then run them all.
test: test-deps
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 30m ./...

test-deps:
	./scripts/install-test-deps.sh

# Print the speed figures each issue asks for.
bench: build
	./scripts/bench-parser.sh
	./scripts/bench-ingest.sh
	./scripts/bench-memory.sh
