# A thin layer over CMake. `make demo` and `make test` are the two set-up commands.
MAKEFLAGS += --no-print-directory
BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc)
CASEKIT    := $(BUILD)/casekit
DEMO_DB    ?= demo/casekit.db

.PHONY: all deps build test test-asan demo bench docs format clean

all: build

deps:
	@tools/install-deps.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

test: build
	ctest --test-dir $(BUILD) --output-on-failure --timeout 300 -j $(JOBS)

# The same suite under AddressSanitizer and UndefinedBehaviorSanitizer.
test-asan: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DCASEKIT_SANITIZE=ON
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1 ctest --test-dir $(ASAN_BUILD) --output-on-failure --timeout 600 -j $(JOBS)

demo: build
	tools/demo.sh $(CASEKIT) $(DEMO_DB)

bench: build
	$(BUILD)/tests/casekit_bench

# Regenerates docs/lua-api.md from the binding tables.
docs: build
	$(CASEKIT) api-doc > docs/lua-api.md

format:
	clang-format -i $$(git ls-files '*.cpp' '*.hpp')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
