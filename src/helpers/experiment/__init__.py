"""One run: its configuration, data, model, training, engine and noise sweeps."""
