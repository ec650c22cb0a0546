# Thin wrapper over Meson. The README's two commands are `make demo` and `make check`.
BUILD        ?= build
CHECK_BUILD  ?= build-check
FUZZ_BUILD   ?= build-fuzz
FUZZ_SECONDS ?= 300
PREFIX       ?= /usr/local

.PHONY: all deps build demo check unit fuzz fuzz-build bench install clean

all: build

deps:
	@scripts/deps.sh

$(BUILD)/build.ninja:
	meson setup $(BUILD) --buildtype=release

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

# The main job on the built-in simulator, on loopback.
demo: build
	@scripts/demo.sh $(BUILD)

$(CHECK_BUILD)/build.ninja:
	meson setup $(CHECK_BUILD) -Db_sanitize=address,undefined -Db_lundef=false

$(FUZZ_BUILD)/build.ninja:
	CC=clang meson setup $(FUZZ_BUILD) -Dfuzz=true -Db_lundef=false

fuzz-build: deps $(FUZZ_BUILD)/build.ninja
	ninja -C $(FUZZ_BUILD)

# Every test: unit and end-to-end under ASan/UBSan, then each fuzzer briefly.
check: deps $(CHECK_BUILD)/build.ninja $(FUZZ_BUILD)/build.ninja
	@scripts/check.sh $(CHECK_BUILD) $(FUZZ_BUILD)

# Long fuzzing runs (FUZZ_SECONDS per target).
fuzz: fuzz-build
	@scripts/fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

bench: build
	@bench/run.sh $(BUILD)

install: build
	meson install -C $(BUILD) --destdir "$(DESTDIR)"

clean:
	rm -rf $(BUILD) $(CHECK_BUILD) $(FUZZ_BUILD) build-valgrind
