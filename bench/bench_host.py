"""Host time per call: what the Python entry points cost on the CPU, for
problems small enough that the GPU is not the bottleneck.

Each path is called N times back to back and timed by the wall clock
(synchronizing once at the end), best of 5 rounds; with kernels of a few
microseconds, the GPU keeps up and the time per call is the host's.
Paths, in one run:
  * fa4 eager: the entry point as users call it (no gradient wanted, so it
    calls the implementation directly);
  * fa4 dispatched: the same call through torch.ops.fa4.* (what
    torch.compile, autograd and dispatch modes see);
  * fa4 compiled: torch.compile(fullgraph=True) around the entry point;
  * FlashAttention-2 (SDPA FLASH) on the same shapes (dense and decode);
  * CUDA graph replay of the fa4 call (the floor: no Python per step).

    PYTHONPATH=python python3 bench/bench_host.py [--out FILE] [--profile]

Run against an older package (PYTHONPATH=<old>/python), paths that package
lacks are reported as such: a before/after of the host path in one run.
--profile prints where an eager call's host time goes (cProfile).
"""

import argparse
import cProfile
import io
import json
import pstats
import os
import sys
import time

import torch
from torch.nn.attention import SDPBackend, sdpa_kernel

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))
import fa4  # noqa: E402

CALLS = 2000


def per_call_us(fn, calls=CALLS, rounds=5):
    for _ in range(50):
        fn()
    torch.cuda.synchronize()
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        torch.cuda.synchronize()
        best = min(best, (time.perf_counter() - start) / calls * 1e6)
    return best


def graph_us(fn, calls=CALLS):
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream):
        fn()
    torch.cuda.current_stream().wait_stream(stream)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        fn()
    return per_call_us(graph.replay, calls)


def dense_case():
    q = torch.randn(1, 128, 8, 64, device="cuda", dtype=torch.bfloat16)
    k = torch.randn(1, 128, 8, 64, device="cuda", dtype=torch.bfloat16)
    v = torch.randn(1, 128, 8, 64, device="cuda", dtype=torch.bfloat16)
    scale = 64 ** -0.5
    qt, kt, vt = (t.transpose(1, 2) for t in (q, k, v))

    def sdpa():
        with sdpa_kernel(SDPBackend.FLASH_ATTENTION):
            return torch.nn.functional.scaled_dot_product_attention(qt, kt, vt, is_causal=True)

    return {
        "fa4 eager": lambda: fa4.flash_attn_func(q, k, v, causal=True),
        "fa4 dispatched": lambda: torch.ops.fa4.fwd(q, k, v, None, None, scale, True, -1, -1,
                                                    0.0, False, "auto"),
        "fa4 compiled": torch.compile(lambda: fa4.flash_attn_func(q, k, v, causal=True),
                                      fullgraph=True),
        "FA2 (SDPA FLASH)": sdpa,
        "fa4 CUDA graph replay": "graph",
    }, lambda: fa4.flash_attn_func(q, k, v, causal=True)


def decode_case():
    batch, cache_len, hq, hk, d = 1, 4096, 32, 8, 128
    q = torch.randn(batch, 1, hq, d, device="cuda", dtype=torch.bfloat16)
    k_cache = torch.randn(batch, cache_len, hk, d, device="cuda", dtype=torch.bfloat16)
    v_cache = torch.randn_like(k_cache)
    seqlens = torch.full((batch,), cache_len, device="cuda", dtype=torch.int32)
    scale = d ** -0.5
    qt = q.transpose(1, 2)
    kt = k_cache.transpose(1, 2).repeat_interleave(hq // hk, dim=1)
    vt = v_cache.transpose(1, 2).repeat_interleave(hq // hk, dim=1)

    def call():
        return fa4.flash_attn_with_kvcache(q, k_cache, v_cache, cache_seqlens=seqlens)

    def sdpa():
        with sdpa_kernel(SDPBackend.FLASH_ATTENTION):
            return torch.nn.functional.scaled_dot_product_attention(qt, kt, vt)

    return {
        "fa4 eager": call,
        "fa4 dispatched": lambda: torch.ops.fa4.kvcache_fwd(
            q, k_cache, v_cache, None, None, None, None, seqlens, cache_len, None, None, None,
            None, scale, False, -1, -1, 0.0, True, 0, False),
        "fa4 compiled": torch.compile(call, fullgraph=True),
        "FA2 (SDPA FLASH)": sdpa,
        "fa4 CUDA graph replay": "graph",
    }, call


def profile(case_name, call, calls=CALLS):
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(calls):
        call()
    profiler.disable()
    torch.cuda.synchronize()
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(18)
    print(f"--- {case_name}: eager call, cProfile over {calls} calls (tottime)")
    print("\n".join(text.getvalue().splitlines()[6:]))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    print(f"fa4 {fa4.__version__} from {os.path.dirname(fa4.__file__)}")
    has_ops = hasattr(torch.ops.fa4, "fwd")
    results = {}
    for case_name, case in (("dense b1 s128 h8 d64 causal", dense_case),
                            ("decode b1 sk4096 h32/8 d128", decode_case)):
        paths, call = case()
        row = {}
        for name, fn in paths.items():
            if name == "fa4 dispatched" and not has_ops:
                print(f"{case_name:32s} {name:24s}      n/a (no torch.ops.fa4)")
                continue
            try:
                row[name] = graph_us(call) if fn == "graph" else per_call_us(fn)
            except Exception as error:  # e.g. torch.compile of a ctypes call
                first = str(error).strip().splitlines()[0][:100]
                print(f"{case_name:32s} {name:24s}   fails: {type(error).__name__}: {first}")
                torch._dynamo.reset()
                continue
            print(f"{case_name:32s} {name:24s} {row[name]:8.1f} us/call", flush=True)
        results[case_name] = row
        if args.profile:
            profile(case_name, call)
    if args.out:
        with open(args.out, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
