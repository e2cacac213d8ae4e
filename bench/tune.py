"""Times kernel variants side by side to choose tile configurations.

Generate variants with fa4-opt (e.g. `tile(128, 64) warps(8) stages(2)`) into
a folder laid out as <folder>/<target>/<kernel>.{ptx,json} (tools/make-variant.sh
does this for every dtype, head dim and mask, one folder each); this script loads
them through the runtime's FA4_KERNEL_PATH hook, forces each with FA4_KERNEL
on every shape it matches, checks it against SDPA, and prints TFLOP/s next to
the embedded default and FlashAttention-2 (SDPA FLASH) from the same run.

    FA4_KERNEL_PATH=variants PYTHONPATH=python python3 bench/tune.py [--quick]
"""

import argparse
import json
import os
import sys

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))
import fa4  # noqa: E402


def variants(target):
    out = []
    for folder in filter(None, os.environ.get("FA4_KERNEL_PATH", "").split(":")):
        path = os.path.join(folder, target)
        if not os.path.isdir(path):
            continue
        for name in sorted(os.listdir(path)):
            if name.endswith(".json"):
                with open(os.path.join(path, name)) as f:
                    module = json.load(f)
                # A module lists its kernels, each with features and config.
                out.extend(k for k in module["kernels"]
                           if k["features"].get("kernel") == "attention"
                           and not k["features"].get("varlen"))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    import triton.testing
    major, minor = torch.cuda.get_device_capability()
    target = {(9, 0): "sm_90", (12, 0): "sm_120a", (12, 1): "sm_121a"}[(major, minor)]
    metas = variants(target)
    print(f"{torch.cuda.get_device_name()}: {len(metas)} variants for {target}")
    seqlens = (1024, 4096) if args.quick else (512, 1024, 2048, 4096, 8192, 16384)
    for d in sorted({m["features"]["head_dim"] for m in metas}):
        for causal in (False, True):
            for s in seqlens:
                b, h = 16384 // s, 2048 // d
                q, k, v = (torch.randn(b, s, h, d, device="cuda", dtype=torch.bfloat16)
                           for _ in range(3))
                flops = 4 * b * h * s * s * d / (2 if causal else 1)
                bench = lambda fn: flops / triton.testing.do_bench(  # noqa: E731
                    fn, warmup=25, rep=100, return_mode="median") / 1e9
                with sdpa_kernel([SDPBackend.FLASH_ATTENTION]):
                    ref = F.scaled_dot_product_attention(
                        q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2),
                        is_causal=causal).transpose(1, 2)
                    fa2 = bench(lambda: F.scaled_dot_product_attention(
                        q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2),
                        is_causal=causal))
                os.environ.pop("FA4_KERNEL", None)
                cells = [f"default={bench(lambda: fa4.flash_attn_func(q, k, v, causal=causal)):4.0f}"]
                for meta in metas:
                    f, c = meta["features"], meta["config"]
                    if f["head_dim"] != d or f["causal"] != causal or f["dtype"] != "bf16":
                        continue
                    os.environ["FA4_KERNEL"] = meta["name"]
                    out = fa4.flash_attn_func(q, k, v, causal=causal)
                    err = (out.float() - ref.float()).abs().max().item()
                    tf = bench(lambda: fa4.flash_attn_func(q, k, v, causal=causal))
                    tag = f"{c['tile_m']}x{c['tile_n']}w{c['num_warps']}s{c['num_stages']}"
                    cells.append(f"{tag}={tf:4.0f}" + ("" if err < 0.05 else f"(ERR {err:.2g})"))
                os.environ.pop("FA4_KERNEL", None)
                print(f"d={d:3d} causal={int(causal)} s={s:5d}  fa2={fa2:4.0f}  " + "  ".join(cells),
                      flush=True)


if __name__ == "__main__":
    main()
