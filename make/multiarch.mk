# multiarch.mk — Make targets for `cargo multiarch`, named like the buildpacks
# lifecycle's per-arch targets (build-linux-arm64, package-linux-arm64, ...).
#
# Usage: in your workspace's Makefile,
#
#     include path/to/multiarch.mk
#
# then `make package verify` (both platforms on one machine), or on a native
# per-arch runner `make package-linux-arm64` and merge the out dirs afterwards
# with `cargo multiarch merge`. Override any variable below on the command line
# or before the include, e.g.
#
#     make package MULTIARCH_FLAGS=--locked OUT_DIR=dist
#
# Including this file does not change your Makefile's default goal.
#
# `package` builds both platforms in one call, because one call writes one
# manifest.json for the whole out dir. The per-arch package targets are for
# per-arch runners with one out dir each: running both into the same out dir
# would leave a manifest for the last platform only.

CARGO ?= cargo
MULTIARCH ?= $(CARGO) multiarch
OUT_DIR ?= out
PLATFORMS ?= linux/amd64,linux/arm64
# Extra flags for build, package and image (cargo-style), e.g. --locked or --target-dir DIR.
MULTIARCH_FLAGS ?=
# Extra flags for verify (e.g. --run) and image (e.g. --tag NAME:TAG, --push REF).
VERIFY_FLAGS ?=
IMAGE_FLAGS ?=

_multiarch_default_goal := $(.DEFAULT_GOAL)

.PHONY: build build-linux-amd64 build-linux-arm64 \
	package package-linux-amd64 package-linux-arm64 \
	verify image clean

build:
	$(MULTIARCH) build --platform $(PLATFORMS) --out-dir $(OUT_DIR) $(MULTIARCH_FLAGS)

build-linux-amd64:
	$(MULTIARCH) build --platform linux/amd64 --out-dir $(OUT_DIR) $(MULTIARCH_FLAGS)

build-linux-arm64:
	$(MULTIARCH) build --platform linux/arm64 --out-dir $(OUT_DIR) $(MULTIARCH_FLAGS)

package:
	$(MULTIARCH) package --platform $(PLATFORMS) --out-dir $(OUT_DIR) $(MULTIARCH_FLAGS)

package-linux-amd64:
	$(MULTIARCH) package --platform linux/amd64 --out-dir $(OUT_DIR) $(MULTIARCH_FLAGS)

package-linux-arm64:
	$(MULTIARCH) package --platform linux/arm64 --out-dir $(OUT_DIR) $(MULTIARCH_FLAGS)

verify:
	$(MULTIARCH) verify --out-dir $(OUT_DIR) --expect $(PLATFORMS) $(VERIFY_FLAGS)

image:
	$(MULTIARCH) image --platform $(PLATFORMS) --out-dir $(OUT_DIR) $(MULTIARCH_FLAGS) $(IMAGE_FLAGS)

clean:
	$(if $(strip $(OUT_DIR)),rm -rf -- '$(strip $(OUT_DIR))',$(error OUT_DIR is empty))

# Goals given together run in pipeline order even under `make -j`:
# clean, then build, then package, then verify and image.
_multiarch_build := build build-linux-amd64 build-linux-arm64
_multiarch_package := package package-linux-amd64 package-linux-arm64
$(_multiarch_build): | $(filter clean,$(MAKECMDGOALS))
$(_multiarch_package): | $(filter clean $(_multiarch_build),$(MAKECMDGOALS))
verify image: | $(filter clean $(_multiarch_build) $(_multiarch_package),$(MAKECMDGOALS))

.DEFAULT_GOAL := $(_multiarch_default_goal)
