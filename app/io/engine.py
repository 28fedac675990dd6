"""Which engine runs a folder job: the local runner (:mod:`.batch`), the same runner fed by
:class:`models.gpu_stream.GpuStream` on a GPU, or a Ray cluster (:mod:`.ray_engine`).
Declared once as settings, so ``--engine``, ``--address``, ``--num-workers`` ... get their
type, bounds and help from here (``app/cli/options.py``)."""
from __future__ import annotations

from dataclasses import dataclass

from models.settings import check_settings, setting

ENGINES = ("local", "gpu", "ray")


def _check_address(name: str, value: str) -> None:
    if not value.strip() or any(c.isspace() for c in value):
        raise ValueError(f"{name} must be 'auto', host:port or ray://host:port (got {value!r})")


@dataclass(frozen=True)
class EngineConfig:
    """Where the detection of a folder runs. ``local`` (the default) is this process;
    ``ray`` spreads the images over a pool of Ray actors, each holding one detector."""

    engine: str = setting("local", "who detects a folder: 'local' = this process; 'gpu' = this process on a "
                          "GPU, JPEGs decoded there and boxes made by a process per core (over 1,000 "
                          "images/s on an H100; pictures drawn at least 640 px long); 'ray' = a pool of Ray "
                          "actors (pip install -r requirements-ray.txt)", choices=ENGINES)
    address: str | None = setting(None, "with --engine ray: the cluster to join, 'auto' (the one `ray start` "
                                  "runs on this node) or ray://host:port; not given: start a local Ray",
                                  check=_check_address, metavar="ADDR")
    num_workers: int = setting(2, "with --engine ray: Ray actors, each holding one detector", min=1, max=4096)
    gpus_per_worker: float = setting(0.0, "with --engine ray: GPUs per actor (0: CPU; 0.5: two actors share "
                                     "a GPU); above 0 the actors run on CUDA, batched", min=0.0, max=16.0)
    cpus_per_worker: float = setting(1.0, "with --engine ray: CPU cores reserved per actor (its threads)",
                                     gt=0.0, max=256.0)
    ray_batch_size: int = setting(4, "with --engine ray: images per Ray Data batch handed to an actor "
                                  "(larger on GPU, e.g. 16)", min=1, max=1024)
    gpu_batch_size: int = setting(16, "with --engine gpu: images per forward pass (16-24 were the fastest "
                                  "end to end on an H100 and an H200)", min=1, max=256)
    post_processes: int = setting(0, "with --engine gpu: processes that turn maps into boxes (0: the "
                                  "cores less two)", min=0, max=256)

    def __post_init__(self) -> None:
        ray_only = [f"--{n.replace('_', '-')}" for n, v in (("address", self.address),) if v is not None]
        extra = [f"{', '.join(ray_only)} needs --engine ray"] if ray_only and self.engine != "ray" else []
        check_settings(self, "engine", extra)
