# A thin layer over CMake. `make demo` and `make test` are the two set-up commands.
MAKEFLAGS += --no-print-directory
BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc)
CASEKIT    := $(BUILD)/casekit
DEMO_DB    ?= demo/casekit.db

.PHONY: all deps build web test test-asan demo bench docs format clean screenshots

all: build

deps:
	@tools/install-deps.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

# The web pages' assets and browser-test tools, from web/package-lock.json (npm ci), again
# only when the lockfile changes.
web: web/node_modules/.installed

web/node_modules/.installed: web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error
	touch $@

test: build web
	ctest --test-dir $(BUILD) --output-on-failure --timeout 300 -j $(JOBS)

# The same suite under AddressSanitizer and UndefinedBehaviorSanitizer.
# The browser tests run in `make test` only: what they drive is the same C++ as the HTTP tests.
test-asan: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DCASEKIT_SANITIZE=ON -DCASEKIT_BROWSER_TESTS=OFF
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1 ctest --test-dir $(ASAN_BUILD) --output-on-failure --timeout 600 -j $(JOBS)

demo: build
	tools/demo.sh $(CASEKIT) $(DEMO_DB)

bench: build
	$(BUILD)/tests/casekit_bench

# The pages as the browser tests see them, into docs/screenshots/.
screenshots: build web
	cd web && CASEKIT_SCREENSHOTS=1 CASEKIT_BIN=$(abspath $(CASEKIT)) node --test --test-concurrency=1 tests/

# Regenerates docs/lua-api.md from the binding tables.
docs: build
	$(CASEKIT) api-doc > docs/lua-api.md

format:
	clang-format -i $$(git ls-files '*.cpp' '*.hpp')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
