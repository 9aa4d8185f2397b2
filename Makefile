# agentsh-runtime developer entry points. Everything runs as root on Debian 12.
#   make setup   install Debian packages and .venv (idempotent, fast when done)
#   make test    setup, then the whole test suite (unit, integration, e2e)
#   make lint    ruff
#   make demo    setup, busybox image built offline, one podman container on agentsh-runtime
#   make bench   bench/lifecycle: agentsh-runtime vs runc (BENCH_ARGS="--n 50 --json")
#   make native  the monitor's exec fast path, agentsh_runtime/monitor/_execfast.so

SHELL := /bin/bash
VENV := $(CURDIR)/.venv
RUNTIME := $(VENV)/bin/agentsh-runtime
BENCH_ARGS ?=

.PHONY: setup test lint demo bench native

setup:
	@scripts/setup.sh

test: setup
	@rc=0; $(VENV)/bin/pytest -q tests || rc=$$?; \
	if [ $$rc -eq 0 ]; then echo "make test: PASSED"; \
	else echo "make test: FAILED (pytest exit $$rc)"; fi; \
	exit $$rc

EXECFAST := agentsh_runtime/monitor/_execfast.so

native: $(EXECFAST)

NATIVE_SRC := agentsh_runtime/monitor/execfast.c agentsh_runtime/monitor/openfast.c agentsh_runtime/monitor/openself.c
$(EXECFAST): $(NATIVE_SRC) agentsh_runtime/monitor/openfast.h agentsh_runtime/monitor/openself.h agentsh_runtime/monitor/native.h
	gcc -O2 -Wall -Wextra -shared -fPIC -pthread -o $@ $(NATIVE_SRC)

lint: setup
	$(VENV)/bin/ruff check . bench/lifecycle bench/ptrace

demo: setup
	@$(VENV)/bin/python -m tests.e2e.podman demo --runtime $(RUNTIME)

bench: setup
	$(VENV)/bin/python bench/lifecycle $(BENCH_ARGS)

.PHONY: bench-engines bench-policy bench-files bench-network bench-ptrace bench-all
bench-engines: setup
	$(VENV)/bin/python bench/engines

bench-policy: setup
	$(VENV)/bin/python bench/policy

bench-files: setup
	$(VENV)/bin/python bench/files

bench-network: setup
	$(VENV)/bin/python bench/network

bench-ptrace: setup
	$(VENV)/bin/python bench/ptrace

bench-all: bench bench-engines bench-policy bench-files bench-network bench-ptrace

.PHONY: conformance
conformance: setup
	$(VENV)/bin/python -m conformance.run

.PHONY: deb
deb: setup
	@packaging/deb/build.sh dist
