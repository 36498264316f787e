"""Re-running Fagbohungbe & Qian (2022): three layers and the tools that run them.

``experiment`` (one run: data, model, training, noise) < ``study`` (run records and
what they show) < ``book`` (the pages' tables, figures and sentences). A layer imports
only the layers below it; ``ops`` (the grid, the GPU study, the book check) may import
any layer and none imports it (``tests/test_layers.py``).
"""
