# Two commands do everything on a fresh machine with Python >= 3.11:
#   make main   set up, then build the book from the committed run records
#   make test   set up, then run the tests
# and one re-runs the study:
#   make study PROFILE=paper GRID_ARGS="--data-dir ~/cifar --seeds 0 1 2"
PYTHON   ?= python3
VENV     ?= .venv
BIN       = $(VENV)/bin
EXTRAS   ?= tf,jax,dev,book,cluster
PROFILE  ?= smoke
GRID_ARGS ?=
export TF_CPP_MIN_LOG_LEVEL = 2
# no progress bars in executed notebooks or pages (tqdm reads TQDM_DISABLE)
book: export TQDM_DISABLE = 1

# The CPU-sized study the book shows (ResNet20 on CIFAR-10, profile cpu, seeds 0-2):
#   make cpu-study DATA=../shared/data/cifar10-jpeg.npz
DATA     ?= $(CIFAR_DATA_DIR)
CPU_STUDY_DIR ?= results/cpu
CPU_STUDY = --profile cpu --data-dir $(DATA) --results-dir $(CPU_STUDY_DIR) \
	--studies lr batchnorm lr_outside --datasets cifar10 --depths 20

.PHONY: setup main book check-book test study cpu-study example clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[$(EXTRAS)]"
	touch $@

setup: $(BIN)/.installed

main: book

book: setup
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/jupyter-book build book/ -W -n --keep-going
	@echo "open book/_build/html/index.html"

# The built book opened page by page in headless Chromium (apt-get install chromium):
# fails on a traceback, log line, warning, machine path, raw maths or broken link.
check-book:
	$(BIN)/python -m helpers.bookcheck book/_build/html --browser

test: setup
	$(BIN)/python -m pytest

study: setup
	$(BIN)/python -m helpers.grid --profile $(PROFILE) $(GRID_ARGS)

# Balanced: seeds 0 and 1 for every cell first, then seed 2 (resumes where it stopped).
cpu-study: setup
	@test -n "$(DATA)" || { echo "DATA=<CIFAR-10 folder, archive or .npz> is required"; exit 2; }
	$(BIN)/python -m helpers.grid $(CPU_STUDY) --seeds 0 1
	$(BIN)/python -m helpers.grid $(CPU_STUDY) --seeds 0 1 2

# The book's example run: one executed notebook of the cpu study (its grid keeps them in
# $(CPU_STUDY_DIR)/notebooks/), made readable by helpers.example_page.
EXAMPLE_KEY ?= cifar10-resnet20-bn-adam-lr0.001-s0-cpu-916907a170
example: setup
	$(BIN)/python -m helpers.example_page $(CPU_STUDY_DIR)/notebooks/$(EXAMPLE_KEY).out.ipynb \
	    book/example_run.ipynb --record $(CPU_STUDY_DIR)/$(EXAMPLE_KEY).json

clean:
	rm -rf $(VENV) .pytest_cache book/_build
