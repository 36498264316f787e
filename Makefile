# Two commands do everything on a fresh machine with Python >= 3.11:
#   make main   set up, then build the book from the committed run records
#   make test   set up, then run the tests
# and one re-runs the study (into runs/study-<profile>/, ignored by git):
#   make study PROFILE=paper GRID_ARGS="--data-dir ~/cifar --seeds 0 1 2"
# On a GPU machine without a network (docs/gpu-cluster-offline.md):
#   make wheelhouse        (here, with a network) binary wheels of requirements-offline.txt
#   make install-offline   (there) install them with --no-index
#   make gpu-study DATA=... OUT=... BUDGET=... SEEDS="0"
PYTHON   ?= python3
VENV     ?= .venv
BIN       = $(VENV)/bin
EXTRAS   ?= tf,jax,dev,book,cluster
PROFILE  ?= smoke
GRID_ARGS ?=
export TF_CPP_MIN_LOG_LEVEL = 2
# no progress bars in executed notebooks or pages (tqdm reads TQDM_DISABLE)
book: export TQDM_DISABLE = 1

# offline install: wheels for a target Python and platform (pip matches each tag exactly)
WHEELHOUSE      ?= .whl
WHEEL_PYTHON    ?= 3.12
WHEEL_PLATFORMS ?= manylinux2014_x86_64 manylinux_2_27_x86_64 manylinux_2_28_x86_64
OFFLINE_REQS    ?= requirements-offline.txt
OFFLINE_PYTHON  ?= python3
# the dry-run check also needs keras' base dependencies (numpy, h5py, ml-dtypes,
# packaging) as wheels; they are downloaded beside, never carried
BASE_WHEELHOUSE ?= .whl-base
# the GPU study (scripts/gpu_study.sh; variables documented there). ALLOW_CPU=1: a dry
# proof on a CPU; GPU_PROFILE=smoke: seconds per cell
OUT         ?= gpu-out
BUDGET      ?= 540
SEEDS       ?= 0
GPU_PROFILE ?= fast
ALLOW_CPU   ?= 0
BENCH       ?= 0
BENCH_ARGS  ?= --depths 20 --steps 100 --test-size 1000 --n-repeats 5 --skip-fit
WORKERS     ?= auto
CONC_ARGS   ?= --workers 1 2 4 --steps 400
GRID_VIA    ?= inprocess
GPU_STUDY_ARGS ?=


# The CPU-sized study the book shows (ResNet20 on CIFAR-10, profile cpu, seeds 0-2):
#   make cpu-study DATA=path/to/cifar10-jpeg.npz
DATA     ?= $(CIFAR_DATA_DIR)
CPU_STUDY_DIR ?= results/cpu
CPU_GRID = --profile cpu --data-dir $(DATA) --results-dir $(CPU_STUDY_DIR) --datasets cifar10 --depths 20
CPU_STUDY = $(CPU_GRID) --studies lr batchnorm lr_outside

.PHONY: setup main book check-book test study cpu-study example clean wheelhouse \
	wheelhouse-check install-offline gpu-study

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[$(EXTRAS)]"
	touch $@

setup: $(BIN)/.installed

main: book

# --all: every page is rebuilt, since a page's numbers change with the records in
# results/ (which Sphinx does not track), not only with its notebook. The repository,
# issue, Binder and Colab buttons appear only with BOOK_REPOSITORY_URL set
# (https://github.com/<owner>/<name>; scripts/book_config.py).
BOOK_CONFIG = book/_build/config.yml
book: setup
	$(BIN)/python scripts/book_config.py $(BOOK_CONFIG)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/jupyter-book build book/ --config $(BOOK_CONFIG) \
	    --all -W -n --keep-going
	@echo "open book/_build/html/index.html"

# The built book opened page by page in headless Chromium (apt-get install chromium):
# fails on a traceback, log line, warning, machine path, raw maths or broken link.
check-book:
	$(BIN)/python -m helpers.ops.bookcheck book/_build/html --browser

test: setup
	$(BIN)/python -m pytest

# into runs/study-<profile>/, a folder git ignores (the committed results/ change only
# when named: STUDY_DIR=results/...)
STUDY_DIR ?= runs/study-$(PROFILE)
study: setup
	$(BIN)/python -m helpers.ops.grid --profile $(PROFILE) --results-dir $(STUDY_DIR) $(GRID_ARGS)

# Balanced: seeds 0 and 1 for every cell first, then seed 2 (resumes where it stopped);
# then the six optimizers at lr 0.00075, seed 0 (the paper's Fig. 3). Naming the lr study
# with them makes Adam's cell the one the LR grid already trained (same run key).
cpu-study: setup
	@test -n "$(DATA)" || { echo "DATA=<CIFAR-10 folder, archive or .npz> is required"; exit 2; }
	$(BIN)/python -m helpers.ops.grid $(CPU_STUDY) --seeds 0 1
	$(BIN)/python -m helpers.ops.grid $(CPU_STUDY) --seeds 0 1 2
	$(BIN)/python -m helpers.ops.grid $(CPU_GRID) --studies lr optimizers --lrs 0.00075 --seeds 0

# The book's example run: one executed notebook of a study (its grid keeps them, uncommitted,
# in <results dir>/notebooks/ on the machine that trained it), made readable by
# helpers.book.example_page: ResNet20, Adam, lr 0.0005, seed 1, `long` profile.
EXAMPLE_DIR ?= results/cpu-long
EXAMPLE_KEY ?= cifar10-resnet20-bn-adam-lr0.0005-s1-long-90f765628f
example: setup
	$(BIN)/python -m helpers.book.example_page $(EXAMPLE_DIR)/notebooks/$(EXAMPLE_KEY).out.ipynb \
	    book/example_run.ipynb --record $(EXAMPLE_DIR)/$(EXAMPLE_KEY).json

wheelhouse: setup
	$(BIN)/python -m pip download --no-deps --only-binary=:all: --implementation cp \
	    --python-version $(WHEEL_PYTHON) $(addprefix --platform ,$(WHEEL_PLATFORMS)) \
	    -d $(WHEELHOUSE) -r $(OFFLINE_REQS)
	@$(BIN)/python scripts/wheelhouse_check.py $(WHEELHOUSE) $(OFFLINE_REQS)

# resolve requirements-offline.txt from the wheels alone, for the target, without installing
wheelhouse-check: wheelhouse
	$(BIN)/python -m pip download -q --no-deps --only-binary=:all: --implementation cp \
	    --python-version $(WHEEL_PYTHON) $(addprefix --platform ,$(WHEEL_PLATFORMS)) \
	    -d $(BASE_WHEELHOUSE) numpy h5py ml-dtypes packaging
	$(BIN)/python -m pip install --dry-run --ignore-installed --no-index --only-binary=:all: \
	    --find-links $(WHEELHOUSE) --find-links $(BASE_WHEELHOUSE) --implementation cp \
	    --python-version $(WHEEL_PYTHON) $(addprefix --platform ,$(WHEEL_PLATFORMS)) \
	    --target $(BASE_WHEELHOUSE)/target -r $(OFFLINE_REQS)

# on the offline machine: its python3 (OFFLINE_PYTHON) gets the wheels; the base
# packages must already be there (pip says which is missing)
install-offline:
	$(OFFLINE_PYTHON) -m pip install --no-index --find-links $(WHEELHOUSE) -r $(OFFLINE_REQS)
	PYTHONPATH=src KERAS_BACKEND=jax $(OFFLINE_PYTHON) -c "import keras, helpers.experiment.engine, \
	    helpers.ops.run_cell; print('keras', keras.__version__, 'on', keras.config.backend())"

# the CIFAR-10 study on the fast profile, in the time budget, packed under OUT
gpu-study:
	DATA="$(DATA)" OUT="$(OUT)" BUDGET="$(BUDGET)" SEEDS="$(SEEDS)" PROFILE="$(GPU_PROFILE)" \
	    ALLOW_CPU="$(ALLOW_CPU)" BENCH="$(BENCH)" BENCH_ARGS="$(BENCH_ARGS)" \
	    WORKERS="$(WORKERS)" CONC_ARGS="$(CONC_ARGS)" \
	    GRID_VIA="$(GRID_VIA)" PYTHON="$(OFFLINE_PYTHON)" scripts/gpu_study.sh $(GPU_STUDY_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache book/_build
