# Two commands for a fresh machine:  make play   and   make test
# Everything else is set up on the way (system packages when root on Debian/Ubuntu,
# a virtual environment in .venv, torch's CPU build, the project in editable mode).

PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed
ARGS   ?=

# What the instrument and its tests need from the system (see TESTBED notes in README)
APT_PACKAGES = libegl1 libgl1-mesa-dri libegl-mesa0 libosmesa6 xvfb x11-apps imagemagick \
               libportaudio2 jackd2 ffmpeg iproute2 chromium puredata-core

.PHONY: play test lint typecheck setup system clean help embedded-model gpu-check gpu-wheels

help:
	@echo "make play    play the default patch (headless to out/ when there is no display)"
	@echo "make test    lint, type-check and run the whole test suite"
	@echo "make setup   only install (system packages, $(VENV))"
	@echo "make embedded-model   train the embedded model again (3 stages, ~100 min of CPU)"
	@echo "make gpu-wheels  the wheels a GPU machine with no network lacks, into .whl/"
	@echo "make gpu-check   the GPU run (bench/gpu_check.sh); here it rehearses with --tiny"

play: setup
	$(BIN)/performer play $(ARGS)

test: setup lint
	$(BIN)/pytest -q $(ARGS)

CODE = performer render control mappings tests bench

# The shipped embedded model, stage by stage (docs/embedded-model.md), into runs/
TRAIN = $(BIN)/performer train-embedded
embedded-model: setup
	$(TRAIN) --out runs/s1 --steps 6500 --max-minutes 62 --checkpoint-minutes 3
	$(TRAIN) --out runs/s2 --init runs/s1 --seed 1 --steps 5000 --stop-after 1859 \
		--lr 2e-4 --pure-noise 0.35 --stats-weight 0.5 --clip 1.0 --identity embedded:era-v2
	$(TRAIN) --out runs/s3 --init runs/s2 --seed 3 --steps 3000 --lr 1.5e-4 \
		--pure-noise 0.35 --stats-weight 0.5 --clip 1.0 --scanline-stat --identity embedded:era-v2
	@echo "to ship it: cp runs/s3/era.safetensors runs/s3/config.json performer/embedded/"

# mypy cannot follow the editable install's import hook, so it reads the package through
# links laid out as the wheel installs it: build/typecheck/performer/control -> control/ ...
TYPECHECK = build/typecheck/performer

lint: setup
	$(BIN)/ruff check $(CODE)
	$(BIN)/ruff format --check $(CODE)
	@$(MAKE) -s typecheck

typecheck: setup
	@mkdir -p $(TYPECHECK) && find $(TYPECHECK) -xtype l -delete
	@for f in performer/*; do ln -sfn ../../../$$f $(TYPECHECK)/; done
	@for p in control render mappings; do ln -sfn ../../../$$p $(TYPECHECK)/$$p; done
	$(BIN)/mypy

setup: system $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV) || { echo "need Python 3.11+ with venv (Debian: apt install python3-venv)"; exit 1; }
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

system:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing system packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	elif command -v apt-get >/dev/null; then \
	  echo "missing system packages:$$missing"; \
	  echo "install them with: sudo apt-get install$$missing"; exit 1; \
	else \
	  echo "not Debian/Ubuntu: install the equivalents of:$$missing"; \
	  echo "(Mesa EGL, Xvfb, ImageMagick, PortAudio, JACK 2, FFmpeg), then run: make setup SKIP_SYSTEM=1"; \
	  [ -n "$(SKIP_SYSTEM)" ] || exit 1; \
	fi

clean:
	rm -rf $(VENV) out build .pytest_cache .mypy_cache .ruff_cache *.egg-info

# The GPU run (issue 16). The device has Python 3.12 with CUDA torch and no network: what
# it lacks travels as wheels, the project's own among them.
GPU_WHEELS = diffusers==0.42.1 huggingface_hub==2.4.0 streamdiffusion==0.1.1 \
             moderngl==5.13.0 glcontext==3.1.0 python-osc==1.10.2 mido==1.3.3
GPU_PLATFORMS = $(foreach n,2_28 2_27 2_17,--platform manylinux_$(n)_x86_64) \
                --platform manylinux2014_x86_64
gpu-wheels: setup
	rm -rf .whl && mkdir -p .whl
	$(BIN)/pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
		--implementation cp $(GPU_PLATFORMS) -d .whl $(GPU_WHEELS)
	$(BIN)/pip wheel -q --no-deps --no-build-isolation -w .whl .
	@du -sh .whl

# On the GPU machine (device run, carry .whl): bash bench/gpu_check.sh. Here: the rehearsal.
gpu-check: setup
	bash bench/gpu_check.sh $(if $(wildcard /dev/nvidia0),,--tiny)
