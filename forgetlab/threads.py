"""How many threads a job computes with."""

from __future__ import annotations

__all__ = ["limit_threads"]


def limit_threads(count: int) -> None:
    """torch's threads and the BLAS libraries' (OpenBLAS or MKL, under scipy and numpy): a job given ``count``
    cores uses that many. BLAS starts a thread per core in every process otherwise, so two one-core jobs on two
    cores run four threads that wait on each other (an SVD analysis ran minutes instead of seconds)."""
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(count)
    threadpool_limits(count)
