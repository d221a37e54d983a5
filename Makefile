# SPDX-License-Identifier: Apache-2.0
# Thin wrapper over CMake. `make run` and `make test` install what is
# missing first (scripts/deps.sh), so both work on a fresh Debian 12.

BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
TSAN_BUILD ?= build-tsan
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
FUZZ_SECONDS ?= 60
DIFF_LONG_CASES ?= 200000

.PHONY: all build deps run test test-release test-asan test-tsan style bench bench-service fuzz format check-format clean

all: build

build:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS) >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

deps:
	@scripts/deps.sh

# The main job: the governance service in the foreground, state in SQLite
# under ./var, the starter policies of docs/policies. It prints its URL and,
# on first start, the admin token (set WARDEN_ADMIN_TOKEN, at least 32 characters, to choose it);
# then run scripts/demo.sh in another terminal. Ctrl-C stops it cleanly.
RUN_LISTEN ?= 127.0.0.1:8080
RUN_DATA   ?= var
run:
	@scripts/deps.sh --no-npm
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS) >/dev/null
	cmake --build $(BUILD) -j $(JOBS) --target warden
	@echo "warden: state in ./$(RUN_DATA); next, in another terminal:"
	@echo "  WARDEN_URL=http://$(RUN_LISTEN) WARDEN_ADMIN_TOKEN=<the admin token, printed below at first start> scripts/demo.sh"
	exec $(BUILD)/warden serve --listen $(RUN_LISTEN) --data $(RUN_DATA) --policy-dir docs/policies

# Release build with -Werror (gcc): every suite. Then the same sources
# under ASan+UBSan (clang): every suite except the differential test,
# whose C side is the same code already run under the release build.
# Then ThreadSanitizer over the unit and end-to-end suites, where the
# server's threads share tasks, caches and the log's committer.
test: deps style test-release test-asan test-tsan

test-release:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DWD_WERROR=ON $(CMAKE_FLAGS) >/dev/null
	cmake --build $(BUILD) -j $(JOBS)
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

test-asan:
	CC=clang cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DWD_SANITIZE=ON -DWD_WERROR=ON $(CMAKE_FLAGS) >/dev/null
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --output-on-failure -j $(JOBS) -LE diff

test-tsan:
	CC=clang cmake -S . -B $(TSAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DWD_TSAN=ON -DWD_WERROR=ON $(CMAKE_FLAGS) >/dev/null
	cmake --build $(TSAN_BUILD) -j $(JOBS)
	cd $(TSAN_BUILD) && TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$(CURDIR)/tests/tsan.supp" \
	  ctest --output-on-failure -j $(JOBS) -L 'unit|e2e'

style:
	scripts/check-format.sh
	scripts/checksrc.sh

bench: deps build
	bench/run.sh --bin $(BUILD)/bench/cedar_bench --cit $(BUILD)/cedar-it

# The service under load (issue 4): wrk against POST /v1/authorize and
# GET /healthz of one warden serve on loopback; prints a markdown table.
bench-service: deps build
	bench/service/run.sh --build $(BUILD)

# Each libFuzzer target for FUZZ_SECONDS, then a long differential run
# against the reference implementation with a fresh seed.
fuzz: deps build
	CC=clang cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWD_FUZZ=ON -DWD_SANITIZE=ON >/dev/null
	cmake --build $(FUZZ_BUILD) -j $(JOBS)
	scripts/fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)
	tests/diff/run-long.sh $(BUILD) $(DIFF_LONG_CASES)

format:
	scripts/check-format.sh --fix

check-format:
	scripts/check-format.sh

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD) $(TSAN_BUILD)
