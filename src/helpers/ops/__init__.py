"""Running things: the grid and its executors, one cell, the GPU study, the book check."""
