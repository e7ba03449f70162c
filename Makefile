# aggan: `make test` (install what is missing, build, run the tests), `make demo`
# (the dashboard on the bundled samples), `make bench` (speed), `make release`,
# `make install PREFIX=...` / `make uninstall` (default /usr/local; ~/.local without root).

SWIFT ?= swift
DEB_PACKAGES := libdnnl-dev libpng-dev libtiff-dev libncurses-dev pkg-config tmux
RELEASE_BIN := .build/release/aggan
PREFIX ?= /usr/local
DESTDIR ?=
# Where swift-argument-parser's generate-manual plugin writes the page.
MAN_PAGE := .build/plugins/GenerateManual/outputs/aggan/aggan.1
COMPLETIONS := .build/completions
THEMES := $(notdir $(wildcard themes/*.theme))
ROOT := $(DESTDIR)$(PREFIX)
INSTALLED := $(ROOT)/bin/aggan $(ROOT)/share/man/man1/aggan.1 \
	$(ROOT)/share/bash-completion/completions/aggan $(ROOT)/share/zsh/site-functions/_aggan \
	$(ROOT)/share/fish/vendor_completions.d/aggan.fish $(addprefix $(ROOT)/share/aggan/themes/,$(THEMES))

.PHONY: test deps build release demo bench tsan clean man completions install uninstall

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
# disk under a run, a run continued in PyTorch DDP and back (skipped without a Python
# with torch: AGGAN_TORCH_PYTHON), and a translate batch killed, resumed and split into
# shards (docs/TESTING.md).
test: deps
	scripts/check-architecture.sh
	$(SWIFT) build --build-tests
	$(SWIFT) test
	$(SWIFT) build -c release
	AGGAN_BIN=$(RELEASE_BIN) scripts/dashboard-e2e.sh
	AGGAN_BIN=$(RELEASE_BIN) scripts/kill-resume.sh
	AGGAN_BIN=$(RELEASE_BIN) scripts/disk-faults.sh
	AGGAN_BIN=$(RELEASE_BIN) scripts/torch-continue.sh
	AGGAN_BIN=$(RELEASE_BIN) scripts/batch-resume.sh

# The engine and dashboard-loop tests under ThreadSanitizer, at one compute thread (no
# OpenMP team: libgomp is not instrumented; docs/TESTING.md). Not part of `test`: its
# own build takes several minutes.
tsan: deps
	OMP_NUM_THREADS=1 AGGAN_MAX_THREADS=1 $(SWIFT) test --sanitize=thread --scratch-path .build-tsan \
	    --filter 'EngineTests|DashboardAppTests|BatchTranslationTests'

# A new run folder each time (runs/demo-<time>); continue one with
# `.build/release/aggan train --resume runs/demo-<time>`.
demo: release
	$(RELEASE_BIN) train --data samples/nuclei --preset tiny --run-dir runs/demo-$$(date +%Y%m%d-%H%M%S)

bench: release
	$(RELEASE_BIN) bench --preset tiny

# aggan.1 from the commands' own help (swift-argument-parser's generate-manual plugin,
# which runs the release binary; it needs no network once the package is resolved).
man: release
	$(SWIFT) package plugin generate-manual

# bash, zsh and fish completion scripts, from the release binary.
completions: release
	mkdir -p $(COMPLETIONS)
	$(RELEASE_BIN) --generate-completion-script bash > $(COMPLETIONS)/aggan.bash
	$(RELEASE_BIN) --generate-completion-script zsh > $(COMPLETIONS)/_aggan
	$(RELEASE_BIN) --generate-completion-script fish > $(COMPLETIONS)/aggan.fish

# The release binary, the themes (found beside the binary: PREFIX/share/aggan/themes),
# the man page and the completions, in the places man, bash-completion, zsh and fish look.
install: release man completions
	install -d $(ROOT)/bin $(ROOT)/share/aggan/themes $(ROOT)/share/man/man1 \
	  $(ROOT)/share/bash-completion/completions $(ROOT)/share/zsh/site-functions \
	  $(ROOT)/share/fish/vendor_completions.d
	install -m 755 $(RELEASE_BIN) $(ROOT)/bin/aggan
	install -m 644 $(addprefix themes/,$(THEMES)) $(ROOT)/share/aggan/themes/
	install -m 644 $(MAN_PAGE) $(ROOT)/share/man/man1/aggan.1
	install -m 644 $(COMPLETIONS)/aggan.bash $(ROOT)/share/bash-completion/completions/aggan
	install -m 644 $(COMPLETIONS)/_aggan $(ROOT)/share/zsh/site-functions/_aggan
	install -m 644 $(COMPLETIONS)/aggan.fish $(ROOT)/share/fish/vendor_completions.d/aggan.fish

# Removes what install put there (other files in those folders stay).
uninstall:
	rm -f $(INSTALLED)
	-rmdir $(ROOT)/share/aggan/themes $(ROOT)/share/aggan 2>/dev/null

clean:
	rm -rf .build
