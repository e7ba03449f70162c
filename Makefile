# aggan: `make test` (install what is missing, build, run the tests), `make demo`
# (the dashboard on the bundled samples), `make bench` (speed), `make release`.

SWIFT ?= swift
DEB_PACKAGES := libdnnl-dev libpng-dev libtiff-dev libncurses-dev pkg-config tmux
RELEASE_BIN := .build/release/aggan

.PHONY: test deps build release demo bench tsan clean

# Installs the Debian packages that are missing (as root), or says how to.
deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null || exit 1; \
	  else \
	    echo "missing system packages. Run:"; echo "  sudo apt-get install -y$$missing"; exit 1; \
	  fi; \
	fi

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

# The module list of docs/ARCHITECTURE.md, unit tests, then the dashboard driven in tmux
# (release build, 80x24 and 160x50), a run killed 10 times and a full and a read-only
# disk under a run (docs/TESTING.md).
test: deps
	scripts/check-architecture.sh
	$(SWIFT) build --build-tests
	$(SWIFT) test
	$(SWIFT) build -c release
	AGGAN_BIN=$(RELEASE_BIN) scripts/dashboard-e2e.sh
	AGGAN_BIN=$(RELEASE_BIN) scripts/kill-resume.sh
	AGGAN_BIN=$(RELEASE_BIN) scripts/disk-faults.sh

# The engine and dashboard-loop tests under ThreadSanitizer, at one compute thread (no
# OpenMP team: libgomp is not instrumented; docs/TESTING.md). Not part of `test`: its
# own build takes several minutes.
tsan: deps
	OMP_NUM_THREADS=1 AGGAN_MAX_THREADS=1 $(SWIFT) test --sanitize=thread --scratch-path .build-tsan \
	    --filter 'EngineTests|DashboardAppTests'

# A new run folder each time (runs/demo-<time>); continue one with
# `.build/release/aggan train --resume runs/demo-<time>`.
demo: release
	$(RELEASE_BIN) train --data samples/nuclei --preset tiny --run-dir runs/demo-$$(date +%Y%m%d-%H%M%S)

bench: release
	$(RELEASE_BIN) bench --preset tiny

clean:
	rm -rf .build
