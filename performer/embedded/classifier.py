"""Simple era classifiers on :func:`.stats.features`, numpy only: nearest centroid and
softmax regression, both on standardised features.

It is trained on dataset records alone and then applied to generated frames; if the
model has learned the era, its frames land in the bucket they were conditioned on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from performer.embedded import dataset, stats

BUCKETS = 10


def bucket_edges(n: int = BUCKETS) -> np.ndarray:
    return np.linspace(dataset.FIRST_YEAR, dataset.LAST_YEAR, n + 1)


def bucket_centres(n: int = BUCKETS) -> np.ndarray:
    edges = bucket_edges(n)
    return 0.5 * (edges[:-1] + edges[1:])


def bucket_of(years: np.ndarray, n: int = BUCKETS) -> np.ndarray:
    return np.clip(np.searchsorted(bucket_edges(n), years, side="right") - 1, 0, n - 1)


@dataclass
class NearestCentroid:
    """Each bucket is the mean of its standardised features; a frame goes to the nearest."""

    mean: np.ndarray
    scale: np.ndarray
    centroids: np.ndarray  # (buckets, F)

    @classmethod
    def fit(cls, images: np.ndarray, years: np.ndarray) -> NearestCentroid:
        x = stats.features(images)
        mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-6
        x, labels = (x - mean) / scale, bucket_of(years)
        return cls(mean, scale, np.stack([x[labels == b].mean(axis=0) for b in range(BUCKETS)]))

    def predict(self, images: np.ndarray) -> np.ndarray:
        x = (stats.features(images) - self.mean) / self.scale
        return np.argmin(((x[:, None] - self.centroids[None]) ** 2).sum(axis=2), axis=1)


@dataclass
class EraClassifier:
    """Softmax regression over the buckets."""

    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray  # (F + 1, buckets)

    @classmethod
    def fit(cls, images: np.ndarray, years: np.ndarray, epochs: int = 400) -> EraClassifier:
        x = stats.features(images)
        mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-6
        x = np.hstack([(x - mean) / scale, np.ones((len(x), 1), np.float32)])
        y = np.eye(BUCKETS, dtype=np.float32)[bucket_of(years)]
        w = np.zeros((x.shape[1], BUCKETS), np.float32)
        for _ in range(epochs):  # full-batch gradient descent, mild weight decay
            p = _softmax(x @ w)
            w -= 0.5 * (x.T @ (p - y) / len(x) + 1e-3 * w)
        return cls(mean, scale, w)

    def predict(self, images: np.ndarray) -> np.ndarray:
        x = (stats.features(images) - self.mean) / self.scale
        return np.argmax(np.hstack([x, np.ones((len(x), 1), np.float32)]) @ self.weights, axis=1)


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)
