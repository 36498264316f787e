# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: tags,-all
#     formats: ipynb,py:percent
#     notebook_metadata_filter: kernelspec,jupytext
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Training one ResNet and measuring its resistance to analog noise
#
# One cell of the study: a ResNet v1 (depth 6n+2) is trained on CIFAR with the
# recipe of the book's Method page (Keras `cifar10_resnet` example: batch 32, step LR
# schedule, shifts and flips, L2 1e-4), then Gaussian noise of standard
# deviation $\sigma_{noise} = \eta \, \sigma_w$ is added to its weights
# (eq. 4-6) at the six noise levels of the paper, $N$ times each, and the
# test accuracy is measured (eq. 7-9). Everything is written to one run
# record under `results_dir`.
#
# Run it with papermill, e.g.
# `papermill notebooks/train.ipynb out.ipynb -p lr 0.001 -p profile smoke`.

# %% tags=["parameters"]
dataset = "cifar10"        # cifar10 | cifar100
depth = 20                 # 6n+2: 20, 32, 44, 56
lr = 0.001                 # base learning rate eta of the optimizer
optimizer = "adam"         # adam | nadam | adamax | sgd | sgd_momentum | sgd_nesterov
epochs = None              # None: the profile's (smoke 1, fast 30, cpu 20, long 60, paper 200)
batch_size = 32
seed = 0
batch_norm = True
profile = "paper"          # smoke | fast | cpu | long | paper
data_dir = None            # folder / .tar.gz / .npz / "download"; None: $CIFAR_DATA_DIR
results_dir = "runs"       # where the record goes; "runs" is ignored by git
n_repeats = None           # noisy copies per eta; None: the profile's (paper 10)
noise_scope = "all"        # all | trainable | kernels | folded | bn_means
noise_granularity = "array"  # array | layer
noise_ablation = False     # also sweep the other noise models (scope, granularity, kind)
engine = "auto"            # auto | fit | fast (JAX only)
mixed_precision = False    # bfloat16 compute (mixed_bfloat16); off until its effect is measured

# %% [markdown]
# ## Parameters, checked before any work
#
# The steps of the run are in `helpers.ops.cell`; an unknown parameter name or a value
# outside the accepted ones stops the run in the next cell, before TensorFlow is
# imported, with a "did you mean" for a near miss.

# %% tags=["hide-input"]
from helpers.experiment.config import check_parameters

check_parameters(globals())

# %% tags=["hide-input"]
import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown, display

from helpers.ops import cell

setup = cell.prepare(globals())  # a papermill -p name that is not a parameter stops here
print(f"run {setup.key}")

# %% [markdown]
# ## Data

# %% tags=["hide-input"]
data = cell.load_data(setup)
display(Markdown(cell.data_text(data)))

# %% [markdown]
# ## Training
#
# Resumes from the last finished epoch if the run was interrupted; a run whose
# loss turns NaN stops and is recorded as diverged.

# %% tags=["hide-input"]
run = cell.train(setup, data)
print(cell.train_text(run))

# %% [markdown]
# ## Noise injection (eq. 4-9)
#
# The sweeps use a fixed test subset when the profile says so; $a_0$ always uses
# every test image.

# %% tags=["hide-input"]
sweep = cell.sweep_noise(setup, data, run)
if sweep.table is not None:
    print(sweep.text(len(data.y_test)))
    display(sweep.summary.round(4))

# %% [markdown]
# ### Other readings of "noise on all the weights" (ablation)
#
# With `noise_ablation=True` the same sweep is repeated for each noise model of
# `noise.ABLATION` (noise on trainable arrays only, on kernels only, one
# $\sigma_w$ per layer, multiplicative noise, and BN folded into the
# convolutions as inference hardware maps it).

# %% tags=["hide-input"]
ablation = cell.sweep_ablation(setup, run, sweep)
if ablation.blocks:
    print(ablation.text())

# %% [markdown]
# ## Gradient noise (eq. 1-3)
#
# On the trained model: per-example gradients of the training loss on the first
# training images (BN on its moving statistics), their spread
# $C = E\|\nabla L_i - \nabla L_D\|^2$ (eq. 3), and the variance of minibatch
# gradients for several $|B|$ against the $C/|B|$ law (`helpers.study.theory`). The
# bound of eq. 2 is printed at this run's base learning rate and batch size.

# %% tags=["hide-input"]
measured = cell.gradient_noise(setup, data, run)
if measured is not None:
    display(pd.DataFrame(measured["minibatch"]))
    print(cell.gradient_noise_text(setup, measured))

# %% [markdown]
# ## The run record

# %% tags=["hide-input"]
record = cell.write_record(setup, data, run, sweep, ablation, measured)
print(f"wrote {setup.paths.record.name}")

# %% [markdown]
# ## Figures

# %% tags=["hide-input"]
cell.figures(setup, data, run, sweep)
plt.show()

# %% [markdown]
# ## What this run says

# %% tags=["hide-input"]
display(Markdown(cell.conclusion(setup, data, run, sweep)))
