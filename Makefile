# Thin wrapper over Meson. The README's two commands are `make demo` and `make check`.
BUILD        ?= build
CHECK_BUILD  ?= build-check
FUZZ_BUILD   ?= build-fuzz
FUZZ_SECONDS ?= 300
PREFIX       ?= /usr/local

.PHONY: all deps build demo check unit fuzz fuzz-build bench install clean \
        windows linux-static macos dist check-windows check-cross check-platforms bench-platforms

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

# Every test: unit and end-to-end under ASan/UBSan (CHECK_JOBS stories at once, default 6),
# seven stories under valgrind beside them, then each fuzzer 10 s (docs/TESTING.md).
check: deps $(CHECK_BUILD)/build.ninja $(FUZZ_BUILD)/build.ninja
	@scripts/check.sh $(CHECK_BUILD) $(FUZZ_BUILD)

# Long fuzzing runs (FUZZ_SECONDS per target).
fuzz: fuzz-build
	@scripts/fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

bench: build
	@bench/run.sh $(BUILD)

# ---- other platforms (issue 14): dependencies from Debian's sources, cached in
# ~/.cache/sonota (scripts/xdeps.sh); binaries land in out/TARGET/.
LINUX_TARGETS := linux-x86_64 linux-aarch64 linux-armhf
MACOS_TARGETS := macos-arm64 macos-x86_64

windows:
	@scripts/xbuild.sh windows-x86_64

linux-static:
	@scripts/xbuild.sh $(LINUX_TARGETS)

macos:
	@scripts/xbuild.sh $(MACOS_TARGETS)

# Every binary in dist/ with SHA256SUMS and the per-OS notes.
dist:
	@scripts/dist.sh windows-x86_64 $(LINUX_TARGETS) $(MACOS_TARGETS)

# sonota.exe under Wine against the native simulator.
check-windows: build
	@scripts/check-platform.sh windows-x86_64

# The Raspberry Pi builds under qemu-user: unit tests and loopback stories.
check-cross: build
	@scripts/check-platform.sh linux-aarch64
	@scripts/check-platform.sh linux-armhf

check-platforms: check-windows check-cross
	@scripts/check-platform.sh linux-x86_64

# Sizes, start-up and loopback flow time of every binary in out/ next to the native one.
bench-platforms: build dist
	@python3 bench/platforms.py $(BUILD)

install: build
	meson install -C $(BUILD) --destdir "$(DESTDIR)"

clean:
	rm -rf $(BUILD) $(CHECK_BUILD) $(FUZZ_BUILD) build-valgrind build-x out dist
