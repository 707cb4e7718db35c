"""The embedded era model: its world, its media, its training and its weights.

``dataset.sample(seed, year)`` makes a record; ``weights.load()`` gives the shipped
denoiser; ``stats.named(images)`` measures saturation, warmth, grain and scanlines;
``performer.generators.embedded.EmbeddedGenerator`` plays it.
"""
