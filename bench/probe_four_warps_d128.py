"""Four warps of 32 rows at d = 128 (issue 11): does the 128 x 64 tile's
spilling cost anything on silicon? Variants `fa4_fwd_bf16_hd128[_causal]_w4s{1,2}`
(the d = 128 definitions with `tile(128, 64) warps(4) q_in_registers(false)
stages(1|2)`; they spill 136-168 B under ptxas for sm_120a, so they are not
SM120 kernels, only a measurement) are loaded from FA4_KERNEL_PATH and forced
by name beside the embedded kernel auto dispatch picks and FlashAttention-2
(SDPA FLASH), in one process. Each variant is checked against the reference
on a ragged shape first and against the embedded kernel on every timed shape.

    FA4_KERNEL_PATH=variants PYTHONPATH=python python3 bench/probe_four_warps_d128.py
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python", "tests"))
import torch  # noqa: E402
import triton.testing  # noqa: E402
from torch.nn.attention import SDPBackend, sdpa_kernel  # noqa: E402

import fa4  # noqa: E402
from reference import check  # noqa: E402


def call(q, k, v, causal, name=None):
    if name:
        os.environ["FA4_KERNEL"] = name
    try:
        return fa4.flash_attn_func(q, k, v, causal=causal)
    finally:
        os.environ.pop("FA4_KERNEL", None)


def timed(fn):
    fn()
    torch.cuda.synchronize()
    return triton.testing.do_bench(fn, warmup=25, rep=100, return_mode="median")


def main():
    print(torch.cuda.get_device_name(), flush=True)
    d, rows, worst = 128, [], 0.0
    for causal in (False, True):
        names = [f"fa4_fwd_bf16_hd128{'_causal' if causal else ''}_w4s{s}" for s in (1, 2)]
        torch.manual_seed(1)
        q, k, v = (torch.randn(2, n, 8, d, device="cuda", dtype=torch.bfloat16) * sc
                   for n, sc in ((333, 4.0), (517, 1.0), (517, 1.0)))
        for name in names:
            check(call(q, k, v, causal, name), None, q, k, v, causal)
        for s in (512, 1024, 2048, 4096, 8192, 16384):
            b, h = 16384 // s, 2048 // d
            q, k, v = (torch.randn(b, s, h, d, device="cuda", dtype=torch.bfloat16)
                       for _ in range(3))
            auto = call(q, k, v, causal)
            t = {"auto": timed(lambda: call(q, k, v, causal))}
            for name in names:
                diff = (call(q, k, v, causal, name).float() - auto.float()).abs().max().item()
                worst = max(worst, diff)
                t[name[-4:]] = timed(lambda: call(q, k, v, causal, name))
            qt, kt, vt = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)
            sdpa = torch.nn.functional.scaled_dot_product_attention
            with sdpa_kernel(SDPBackend.FLASH_ATTENTION):
                t["FA2"] = timed(lambda: sdpa(qt, kt, vt, is_causal=causal))
            flops = 4 * b * h * s * s * d / (2 if causal else 1)
            row = dict(causal=causal, s=s, **{n: round(ms, 4) for n, ms in t.items()},
                       **{f"tflops_{n}": round(flops / ms / 1e9, 1) for n, ms in t.items()})
            rows.append(row)
            print(json.dumps(row), flush=True)
    print("| causal | s | auto ms | w4s1 ms | w4s2 ms | FA2 ms | TFLOP/s auto / w4s1 / w4s2 / FA2 "
          "| w4 best vs auto | w4 best vs FA2 |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        best = min(r["w4s1"], r["w4s2"])
        print(f"| {int(r['causal'])} | {r['s']} | {r['auto']:.3f} | {r['w4s1']:.3f} | {r['w4s2']:.3f} "
              f"| {r['FA2']:.3f} | {r['tflops_auto']} / {r['tflops_w4s1']} / {r['tflops_w4s2']} / "
              f"{r['tflops_FA2']} | {r['auto'] / best:.3f} | {r['FA2'] / best:.3f} |")
    print(f"largest difference from the embedded kernel: {worst:.3e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
