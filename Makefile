# Quick start: `make run` (search sort3) and `make test` (everything; `make quick` leaves out
# the tests marked slow); each installs what is missing first.
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test quick clean

install: $(STAMP)

# torch is pinned first: this machine holds that CPU build on disk, while an unpinned
# torch would pull a multi-GB CUDA build.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || python3 -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check torch==2.13.0
	$(BIN)/pip install -q --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

run: install
	$(BIN)/superopt search sort3

test: install
	$(BIN)/python -m pytest

quick: install
	$(BIN)/python -m pytest -m "not slow"

clean:
	rm -rf $(VENV) build *.egg-info
