"""torch internals the memory profile reads (written against torch 2.13): the CPU allocator's events in the
profiler's event tree, and the fused CPU attention kernel the meta-device estimate runs attention through."""

from __future__ import annotations

import contextlib

__all__ = ["cpu_allocations", "fused_attention"]


@contextlib.contextmanager
def fused_attention():
    """Attention through the fused kernel CPUs and GPUs run, which keeps its output and log-sum-exp for the
    backward: on the meta device SDPA would take its math path and keep every layer's L x L attention weights."""
    from unittest import mock

    import torch

    def fused(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None, enable_gqa=False):
        kernel = torch.ops.aten._scaled_dot_product_flash_attention_for_cpu  # grouped key-value heads as they are
        return kernel(query, key, value, dropout_p, is_causal, attn_mask=attn_mask, scale=scale)[0]

    with mock.patch.object(torch.nn.functional, "scaled_dot_product_attention", fused):
        yield


def cpu_allocations(profiler) -> list[int]:
    """The sizes of the CPU allocator's allocations (and, negative, frees) in time order, from a finished
    ``torch.profiler.profile(profile_memory=True)``."""
    from torch._C._profiler import _EventType

    try:
        stack = list(profiler.profiler.kineto_results.experimental_event_tree())
    except AttributeError as error:
        raise RuntimeError(f"this torch's profiler does not list allocations ({error}): use --no-measure") from None
    events = []
    while stack:
        event = stack.pop()
        if event.tag == _EventType.Allocation and event.extra_fields.device.type == "cpu":
            events.append((event.start_time_ns, event.extra_fields.alloc_size))
        stack.extend(event.children)
    return [size for _, size in sorted(events)]
