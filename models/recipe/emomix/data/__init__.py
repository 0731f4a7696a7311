"""Corpora: rendering the Festival teacher corpus, importing recorded datasets, turning
either into training tensors, and loading those tensors in batches."""
