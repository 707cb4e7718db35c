"""The embedded era model: its world, its media, its training and its weights.

``dataset.sample(seed, year)`` makes a record; ``weights.load()`` gives the shipped
denoiser; ``stats.named(images)`` measures soft saturation, warmth, texture and line
energy (with :mod:`performer.image_stats`); ``train`` and ``loss`` train it;
``performer.generators.embedded.EmbeddedGenerator`` plays it.
"""
