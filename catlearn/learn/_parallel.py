"""Data-parallel training over a ``jax.sharding.Mesh``: the batch is sharded
across the mesh's devices, parameters and optimiser state are replicated, and
the training step is one ``jax.jit`` program that XLA's SPMD partitioner splits
across the devices: each device runs the model on its slice of the batch, and
the batch reductions -- the loss mean, the parameter cotangent sums, RDA's vote
counts -- become all-reduce collectives. Nothing in the step changes: the same
lens composite runs on one device or many, so the results agree with the
single-device run (to float rounding for sums of floats; exactly for RDA,
whose votes are integer counts).

Batches are built with ``jax.make_array_from_callback``, which asks only for
the slices on this process's devices, so the same code runs multi-host after
``jax.distributed.initialize()`` with a mesh over all processes' devices
(every process passes the same data and seed). A batch whose size the device
count does not divide (the last, short one) is replicated instead of sharded.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import numpy as np
from jax.sharding import AxisType, Mesh, NamedSharding, PartitionSpec

from .._errors import ShapeError


class DataParallel:
    """Placement of a training run on ``mesh`` (all its axes shard the batch)."""

    def __init__(self, mesh: Any):
        if not isinstance(mesh, Mesh):
            raise ShapeError(
                f"mesh must be a jax.sharding.Mesh, got {type(mesh).__name__}. "
                "Fix: mesh=jax.make_mesh((jax.device_count(),), ('data',))."
            )
        # XLA's SPMD partitioner places the reductions (Auto axes); a mesh
        # with Explicit axes (jax.make_mesh's default) would make every batch
        # contraction in the user's rules spell out its output sharding.
        auto = (AxisType.Auto,) * len(mesh.axis_names)
        self.mesh = mesh = Mesh(mesh.devices, mesh.axis_names, axis_types=auto)
        self.size = int(mesh.devices.size)
        self.replicated = NamedSharding(mesh, PartitionSpec())
        self.sharded = NamedSharding(mesh, PartitionSpec(tuple(mesh.axis_names)))

    def __repr__(self) -> str:
        return f"DataParallel({dict(self.mesh.shape)})"

    def replicate(self, tree: Any) -> Any:
        """Every device holds the whole of ``tree`` (parameters, state)."""
        return jax.device_put(tree, self.replicated)

    def batch(self, array: np.ndarray) -> Any:
        """``array`` split along axis 0 across the mesh (replicated when the
        device count does not divide its length)."""
        if array.shape[0] % self.size:
            return jax.device_put(array, self.replicated)
        return jax.make_array_from_callback(
            array.shape, self.sharded, lambda index: array[index]
        )

    def jit(self, step: Callable[..., Any]) -> Callable[..., Any]:
        """``step`` compiled for the mesh, its outputs replicated."""
        return jax.jit(step, out_shardings=self.replicated)
