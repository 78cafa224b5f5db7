# The two entry points of the README: `make demo` (the main job) and `make test` (the whole suite).
# Both install missing Debian packages first (scripts/setup.sh) and build what is out of date.
BUILD ?= build
JOBS  ?= $(shell nproc 2>/dev/null || echo 2)
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE := 1

.PHONY: all setup configure build demo test bench clean

all: build

setup:
	@scripts/setup.sh

configure: setup
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null

build: configure
	@cmake --build $(BUILD) -j$(JOBS)

# The main job: simulate the default workloads on the default presets and print the report.
demo: build
	@TILESIM=$(BUILD)/tilesim scripts/demo.sh

test: build
	@cd $(BUILD) && ctest -j$(JOBS) --output-on-failure

bench: build
	@./$(BUILD)/bench/bench_kernel_overhead

clean:
	rm -rf $(BUILD) out
