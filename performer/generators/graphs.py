"""CUDA graphs for the frame path: a function of tensors captured once, replayed per frame.

A replay launches the whole captured step (or decode) at once instead of thousands of
kernels one by one. The graph reads its inputs from buffers of its own, so each call
copies the new inputs in; its output tensor is overwritten by the next replay.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch


class CudaGraph:
    """``fn(*inputs)`` captured as one CUDA graph; ``None`` inputs stay ``None``."""

    def __init__(self, fn: Callable[..., Any], inputs: Sequence[torch.Tensor | None], pool: Any):
        self.inputs = [None if x is None else x.clone() for x in inputs]
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):  # warm on a side stream, as capture requires
            for _ in range(2):
                fn(*self.inputs)
        torch.cuda.current_stream().wait_stream(side)
        self.graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.graph, pool=pool):
            self.output = fn(*self.inputs)

    def __call__(self, *inputs: torch.Tensor | None) -> Any:
        for buffer, x in zip(self.inputs, inputs, strict=True):
            if buffer is None or x is None:
                if buffer is not x:
                    raise ValueError("a CUDA graph input changed between None and a tensor")
                continue
            if x.data_ptr() != buffer.data_ptr():
                buffer.copy_(x, non_blocking=True)
        self.graph.replay()
        return self.output
