"""The training and noise recipe in one place, as the book's Method page states it.

Fagbohungbe & Qian (2022), "Effect of learning rate on the noise resistance of
deep learning models" (the paper, sections cited as II-A, II-B, ...), gives the
models, learning rates, optimizers and noise levels; where it is silent, the
Keras ``cifar10_resnet`` example (the "Keras example") fills the gap (book,
Method page: "Choices where the paper is silent"). Every other module reads
these values from here; nothing here imports the rest of the package.
"""

from __future__ import annotations

from dataclasses import dataclass


# --- data (paper II-A) -------------------------------------------------------
@dataclass(frozen=True)
class DatasetSpec:
    """One dataset of the study: its name in configs and records, its label as the paper
    writes it, its number of classes, the paper's figure of A^x against eta for it, and
    the size of its official training split (an epoch's images when a run uses all).
    Its files are read by ``helpers.experiment.cifar_files``."""
    name: str
    label: str
    num_classes: int
    noise_figure: int
    train_images: int = 50_000


# paper II-A: CIFAR-10 and CIFAR-100 (its 100 fine labels); Fig. 1 and 2: A^x against eta.
# A new dataset is one entry here and a reader; the tables below are derived.
DATASET_SPECS = (DatasetSpec("cifar10", "CIFAR-10", 10, 1),
                 DatasetSpec("cifar100", "CIFAR-100", 100, 2))
DATASETS = tuple(d.name for d in DATASET_SPECS)
DATASET_NAMES = {d.name: d.label for d in DATASET_SPECS}
TRAIN_IMAGES = {d.name: d.train_images for d in DATASET_SPECS}
NUM_CLASSES = {d.name: d.num_classes for d in DATASET_SPECS}
PAPER_NOISE_FIGURE = {d.name: d.noise_figure for d in DATASET_SPECS}
# claim 6 (paper III-6) compares the datasets by their number of classes, fewest first
BY_CLASSES = tuple(sorted(DATASETS, key=NUM_CLASSES.get))
MAX_SHIFT = 3                       # Keras example: shifts of up to 10 % of 32 px, nearest fill
FLIP_PROBABILITY = 0.5              # Keras example: horizontal_flip=True, each image with p = 1/2

# --- models (paper II-B) -----------------------------------------------------
PAPER_DEPTHS = (20, 32, 44, 56)     # paper Table I: ResNet20, 32, 44 and 56 (v1)
# paper III-4 and Fig. 3, 4: the one model of the optimizer and sweet-spot studies
# (ResNet20 on the first dataset)
REFERENCE_DATASET, REFERENCE_DEPTH = DATASETS[0], PAPER_DEPTHS[0]
INITIALIZER = "glorot_uniform"      # paper II-B: Glorot (Xavier) uniform initialisation
WEIGHT_DECAY = 1e-4                 # Keras example: L2 1e-4 on every conv and dense kernel

# --- training ------------------------------------------------------------------
BATCH_SIZE = 32                     # Keras example: batch_size = 32 (the paper gives none)
SCHEDULE_EPOCHS = 200               # Keras example: 200 epochs (the paper: "until convergence")
# Keras example's lr_schedule: (first 0-based epoch of the step, factor on the base LR);
# the steps start at epoch index >= 80 (the example: epoch > 80), book Method page
SCHEDULE = ((80, 0.1), (120, 0.01), (160, 1e-3), (180, 5e-4))
PAPER_LRS = (0.0005, 0.000625, 0.00075, 0.001, 0.00125, 0.0015)  # paper II-C: the LR grid
# paper II-B and III-4 (Figure 3): the six optimizers, as (Keras class, settings); the
# settings not given are the Keras defaults; momentum 0.9 is ours (book, Method)
OPTIMIZER_SETTINGS = {
    "adam": ("Adam", {}),
    "nadam": ("Nadam", {}),
    "adamax": ("Adamax", {}),
    "sgd": ("SGD", {}),
    "sgd_momentum": ("SGD", {"momentum": 0.9}),
    "sgd_nesterov": ("SGD", {"momentum": 0.9, "nesterov": True}),
}
OPTIMIZER_NAMES = {"adam": "Adam", "nadam": "Nadam", "adamax": "Adamax", "sgd": "SGD",
                   "sgd_momentum": "SGD with momentum",
                   "sgd_nesterov": "SGD with Nesterov momentum"}  # as the paper writes them
PAPER_OPTIMIZERS = ("adam", "nadam", "adamax", "sgd", "sgd_momentum", "sgd_nesterov")  # Fig. 3
OPTIMIZER_LR = 0.00075              # paper III-4, Figure 3: the optimizers compared at this LR
# How a run is trained (not the paper's: ours, book Method): Keras ``fit``, or the compiled
# JAX loop of ``helpers.experiment.engine`` (same model, loss, optimizer, data order and
# augmentation; KERAS_BACKEND=jax only); "auto" is "fast" on the JAX backend, else "fit"
ENGINES = ("auto", "fit", "fast")

# --- noise (paper II-D) --------------------------------------------------------
N_REPEATS = 10                      # noisy copies per eta: not in the paper; ours (book, Method)
PAPER_ETAS = (0.01, 0.05, 0.10, 0.20, 0.30, 0.40)  # paper II-D: the noise form factors eta

# --- names ----------------------------------------------------------------------
# a frame column's values as the paper writes them (table cells, axis labels, titles)
NAMES = {"dataset": DATASET_NAMES, "optimizer": OPTIMIZER_NAMES}


def name(column: str, value):
    """``value`` of the frame column ``column`` as the paper writes it ("cifar10" ->
    "CIFAR-10", "sgd_nesterov" -> "SGD with Nesterov momentum"); any other value as is."""
    return NAMES.get(column, {}).get(value, value)
