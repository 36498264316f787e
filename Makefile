# Two commands do everything on a fresh machine with Python >= 3.11:
#   make main   set up, then run the main job (a smoke run of the training notebook)
#   make test   set up, then run the tests
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
EXTRAS ?= tf,jax,dev

.PHONY: setup main test clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[$(EXTRAS)]"
	touch $@

setup: $(BIN)/.installed

main: setup
	MPLBACKEND=Agg $(BIN)/papermill notebooks/train.ipynb results/smoke/train.out.ipynb \
	    -p profile smoke -p results_dir results/smoke --cwd .
	@echo "record and executed notebook in results/smoke/"

test: setup
	MPLBACKEND=Agg TF_CPP_MIN_LOG_LEVEL=2 $(BIN)/python -m pytest

clean:
	rm -rf $(VENV) .pytest_cache
