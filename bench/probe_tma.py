"""Runs the TMA kernels found through FA4_KERNEL_PATH (and the embedded
default) on one problem each and compares them with the cp.async kernel:
a quick check of a variant's launch, numerics and liveness (run it under a
timeout: a register-split or barrier bug hangs)."""
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))
import fa4  # noqa: E402
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python", "tests"))
from reference import check  # noqa: E402

os.environ.setdefault("FA4_VERBOSE", "1")
names = [None]
for folder in filter(None, os.environ.get("FA4_KERNEL_PATH", "").split(":")):
    for target in os.listdir(folder):
        names += sorted(f[:-5] for f in os.listdir(os.path.join(folder, target)) if f.endswith(".json"))
for d in (64, 128):
    for causal in (False, True):
        q, k, v = (torch.randn(2, 1000, 8, d, device="cuda", dtype=torch.bfloat16) for _ in range(3))
        for name in names:
            if name and (f"_d{d}" not in name or ("causal" in name) != causal):
                continue
            os.environ.pop("FA4_KERNEL", None)
            if name:
                os.environ["FA4_KERNEL"] = name
            try:
                out, lse = fa4.flash_attn_func(q, k, v, causal=causal, return_lse=True, load_path="tma")
                torch.cuda.synchronize()
                result = check(out, lse, q, k, v, causal)
                print(f"d={d} causal={int(causal)} {name or 'default'}: ok, err {result['err']:.2e}",
                      flush=True)
            except Exception as e:  # report and go on
                print(f"d={d} causal={int(causal)} {name or 'default'}: FAILED: {e}", flush=True)
