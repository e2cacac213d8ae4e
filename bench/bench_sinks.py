"""Learnable sinks: their cost against the plain (or causal, or windowed)
kernel, in one run. bf16, batch * seqlen = 16384, hidden 2048.

    PYTHONPATH=python python3 bench/bench_sinks.py [--out DIR]
"""

import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))
from bench import bench  # noqa: E402

import fa4  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.environ.get("OUT", "."))
    args = ap.parse_args()
    rows = []
    for d in (64, 128):
        heads = 2048 // d
        sinks = torch.randn(heads, device="cuda")
        for s in (1024, 4096, 16384):
            b = 16384 // s
            torch.manual_seed(0)
            q, k, v = (torch.randn(b, s, heads, d, device="cuda", dtype=torch.bfloat16)
                       for _ in range(3))
            for mask, kw in (("none", {}), ("causal", {"causal": True}),
                             ("window", {"window_size": (1024, 0)})):
                plain = bench(lambda: fa4.flash_attn_func(q, k, v, **kw))
                sink = bench(lambda: fa4.flash_attn_func(q, k, v, learnable_sink=sinks, **kw))
                rows.append({"d": d, "seqlen": s, "mask": mask, "plain_ms": plain,
                             "sink_ms": sink, "ratio": sink / plain})
                print(f"d{d} s{s:5d} {mask:6s} plain {plain:.3f} ms sink {sink:.3f} ms "
                      f"x{sink / plain:.3f}", flush=True)
    with open(os.path.join(args.out, "bench_sinks.json"), "w") as f:
        json.dump({"device": torch.cuda.get_device_name(), "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
