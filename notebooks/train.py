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
epochs = None              # None: the profile's (paper 200, fast 30, smoke 1)
batch_size = 32
seed = 0
batch_norm = True
profile = "paper"          # smoke | fast | cpu | paper
data_dir = None            # folder / .tar.gz / .npz / "download"; None: $CIFAR_DATA_DIR
results_dir = "runs"       # where the record goes; "runs" is ignored by git
n_repeats = None           # noisy copies per eta; None: the profile's (paper 10)
noise_scope = "all"        # all | trainable | kernels
noise_granularity = "array"  # array | layer
noise_ablation = False     # also sweep the other noise models (scope, granularity, kind)
engine = "auto"            # auto | fit | fast (JAX only)
mixed_precision = False    # bfloat16 compute (mixed_bfloat16); off until its effect is measured

# %% [markdown]
# ## Parameters, checked before any work

# %% tags=["hide-input"]
from helpers.config import check_injected, make_config

check_injected(globals())  # a papermill -p name that is not a parameter stops the run here

import time
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown, display

from helpers import data as data_mod
from helpers import metrics, models, noise, paper, plots, results, theory, training

config = make_config(
    dataset=dataset, depth=depth, lr=lr, optimizer=optimizer, epochs=epochs,
    batch_size=batch_size, seed=seed, batch_norm=batch_norm, profile=profile,
    data_dir=data_dir, results_dir=results_dir, n_repeats=n_repeats,
    noise_scope=noise_scope, noise_granularity=noise_granularity, noise_ablation=noise_ablation,
    engine=engine, mixed_precision=mixed_precision,
)
data_fingerprint = data_mod.fingerprint(config.dataset, config.data_dir)
key = results.run_key(config.to_dict(), data_fingerprint)
paths = training.RunPaths(Path(config.results_dir), key)
print(f"run {key}")

# %% [markdown]
# ## Data

# %% tags=["hide-input"]
data = data_mod.preprocess(training.load_data(config))
if data.source["synthetic"]:
    display(Markdown(f"**{plots.SMOKE_NOTE}.**"))
print(f"{data.source['label']}: {len(data.y_train)} training and {len(data.y_test)} "
      f"test images, {data.num_classes} classes")

# %% [markdown]
# ## Training
#
# Resumes from the last finished epoch if the run was interrupted; a run whose
# loss turns NaN stops and is recorded as diverged.

# %% tags=["hide-input"]
run = training.train(config, data, paths)
print(f"status: {run.status}; {len(run.history)} epochs, {run.train_seconds:.1f} s of training")

# %% [markdown]
# ## Noise injection (eq. 4-9)

# %% tags=["hide-input"]
sweep, a0, t0 = None, None, time.perf_counter()
# the sweeps use a fixed test subset when the profile says so (a0 always uses every image)
x_noise, y_noise = noise.test_subset(data.x_test, data.y_test, config.noise_test_samples)
if run.status == "completed":
    sweep = noise.noise_sweep(run.model, x_noise, y_noise, n_repeats=config.n_repeats,
                              seed=config.seed, scope=config.noise_scope,
                              granularity=config.noise_granularity, engine=config.engine)
    summary = metrics.summarize_sweep(sweep)
    a0 = metrics.baseline(sweep) if len(y_noise) == len(data.y_test) else \
        models.accuracy(run.model, data.x_test, data.y_test)
    a_avr, a_avr_std = metrics.average_normalized_accuracy(sweep)
    print(f"a0 = {100 * a0:.2f} % on {len(data.y_test)} test images; noise sweeps on "
          f"{len(y_noise)} of them (a0 there {100 * metrics.baseline(sweep):.2f} %)")
    display(summary.round(4))
noise_seconds = time.perf_counter() - t0

# %% [markdown]
# ### Other readings of "noise on all the weights" (ablation)
#
# With `noise_ablation=True` the same sweep is repeated for each noise model of
# `noise.ABLATION` (noise on trainable arrays only, on kernels only, one
# $\sigma_w$ per layer, multiplicative noise, and BN folded into the
# convolutions as inference hardware maps it).

# %% tags=["hide-input"]
ablation, t0 = {}, time.perf_counter()
if config.noise_ablation and sweep is not None:
    this = f"{config.noise_scope}/{config.noise_granularity}/additive"
    ablation = {name: results.noise_block(s) for name, s in noise.ablation_sweeps(
        run.model, x_noise, y_noise, config.n_repeats, config.seed, skip=(this,),
        engine=config.engine).items()}
    for name, block in ablation.items():
        print(f"{name:26s} A_avr = {100 * block['A_avr']:.2f} %")
ablation_seconds = time.perf_counter() - t0

# %% [markdown]
# ## Gradient noise (eq. 1-3)
#
# On the trained model: per-example gradients of the training loss on the first
# training images (BN on its moving statistics), their spread
# $C = E\|\nabla L_i - \nabla L_D\|^2$ (eq. 3), and the variance of minibatch
# gradients for several $|B|$ against the $C/|B|$ law (`helpers.theory`). The
# bound of eq. 2 is printed at this run's base learning rate and batch size.

# %% tags=["hide-input"]
theory_result = None
if run.status == "completed":
    n_theory = min(theory.settings(config.profile)["n_examples"], len(data.y_train))
    theory_result = theory.measure(run.model, data.x_train[:n_theory], data.y_train[:n_theory],
                                   **{**theory.settings(config.profile), "n_examples": n_theory},
                                   seed=config.seed)
    display(pd.DataFrame(theory_result["minibatch"]))
    print(f"C = {theory_result['C']:.4g}; alpha^2 C / |B| = "
          f"{theory.noise_power_bound(config.lr, theory_result['C'], config.batch_size):.4g} "
          f"at alpha = {config.lr:g}, |B| = {config.batch_size} "
          f"({theory_result['seconds']:.1f} s, {n_theory} images)")

# %% [markdown]
# ## The run record

# %% tags=["hide-input"]
run.model.save_weights(paths.weights)
record = results.make_record(config.to_dict(), key,
                             {**data.source, "fingerprint": data_fingerprint}, run, sweep,
                             {"noise_seconds": noise_seconds, "ablation_seconds": ablation_seconds},
                             a0=a0)
record["noise_ablation"] = ablation or None
record["theory"] = theory_result
results.write_record(paths.record, record)
print(f"wrote {paths.record.name}")

# %% [markdown]
# ## Figures

# %% tags=["hide-input"]
title = (f"ResNet{config.depth} {'' if config.batch_norm else 'without BN '}on "
         f"{data.source['label']}, {config.optimizer} lr = {config.lr:g}, seed {config.seed}, "
         f"{config.profile} profile")
plots.training_curves(run.history, title=title, synthetic=data.source["synthetic"])
plt.show()
if sweep is not None:
    in_text = paper.lookup("in_text", dataset=config.dataset, depth=config.depth, lr=config.lr,
                           optimizer=config.optimizer)
    plots.noise_curve(summary, config.lr, title=title, synthetic=data.source["synthetic"],
                      paper=None if config.batch_norm is False else in_text)
    plt.show()

# %% [markdown]
# ## What this run says

# %% tags=["hide-input"]
if sweep is None:
    text = (f"The run **diverged** at epoch {run.diverged_at_epoch} (NaN loss); it is recorded "
            "as diverged and has no noise sweep.")
else:
    row10 = summary.loc[(summary["eta"] - 0.10).abs() < 1e-9]
    at10 = f"{100 * row10['A_x'].iloc[0]:.1f} %" if len(row10) else "n/a"
    ref = paper.lookup("table3", dataset=config.dataset, depth=config.depth, lr=config.lr)
    paper_txt = (f"; the paper's Table III gives {ref['avg_normalized_accuracy_pct'].iloc[0]:.2f} % "
                 "for this cell" if len(ref) and config.optimizer == "adam" and config.batch_norm
                 else "")
    text = (f"Baseline test accuracy a0 = {100 * a0:.2f} %. At eta = 10 % the model keeps "
            f"{at10} of it; averaged over the {len(summary)} noise levels, "
            f"A_avr = {100 * a_avr:.2f} % (spread over the {config.n_repeats} repeats "
            f"{100 * a_avr_std:.2f} %){paper_txt}.")
if data.source["synthetic"]:
    text += f" **{plots.SMOKE_NOTE}: these numbers say nothing about the paper.**"
display(Markdown(text))
