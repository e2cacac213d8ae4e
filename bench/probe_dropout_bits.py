"""Dropout keep bits as a bitcast vector of i1 (bench/RESULTS.md, runs 58b-c):
the new embedded dropout kernels against the previous ones, loaded as
variants `<name>_old` from the folder FA4_KERNEL_PATH names and forced by
name, beside FlashAttention-2 (SDPA FLASH) with and without dropout, in one
process. The keying did not change, so with the same torch seed the two
kernels must give bit-identical outputs; the script checks that first.

    FA4_KERNEL_PATH=variants PYTHONPATH=python python3 bench/probe_dropout_bits.py [SUFFIX]

SUFFIX (default _old) names the variants; run 58 loaded the new kernels as
`<name>_bits` beside the old embedded ones, so there "old" is the variant.
"""
import json
import os
import sys

import torch
from torch.nn.attention import SDPBackend, sdpa_kernel

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))
import fa4  # noqa: E402
from timing import timed  # noqa: E402


def call(q, k, v, p, causal, name=None):
    if name:
        os.environ["FA4_KERNEL"] = name
    try:
        torch.manual_seed(1234)
        return fa4.flash_attn_func(q, k, v, p, causal=causal)
    finally:
        os.environ.pop("FA4_KERNEL", None)


def main(suffix):
    print(torch.cuda.get_device_name(), flush=True)
    rows = []
    for d in (64, 96, 128):
        for causal in (False, True):
            old = f"fa4_fwd_bf16_hd{d}{'_causal' if causal else ''}_dropout{suffix}"
            for s in (1024, 4096, 8192):
                batch, heads = 16384 // s * 2, 2048 // d
                q, k, v = (torch.randn(batch, s, heads, d, device="cuda", dtype=torch.bfloat16)
                           for _ in range(3))
                new_out = call(q, k, v, 0.1, causal)
                old_out = call(q, k, v, 0.1, causal, old)
                identical = torch.equal(new_out, old_out)
                flops = 4 * batch * heads * s * s * d / (2 if causal else 1)
                t = {
                    "fa4 p=0": timed(lambda: call(q, k, v, 0.0, causal)),
                    "fa4 p=0.1": timed(lambda: call(q, k, v, 0.1, causal)),
                    "fa4 old p=0.1": timed(lambda: call(q, k, v, 0.1, causal, old)),
                }
                qt, kt, vt = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)
                sdpa = torch.nn.functional.scaled_dot_product_attention
                with sdpa_kernel(SDPBackend.FLASH_ATTENTION):
                    t["FA2 p=0"] = timed(lambda: sdpa(qt, kt, vt, is_causal=causal))
                    t["FA2 p=0.1"] = timed(lambda: sdpa(qt, kt, vt, dropout_p=0.1, is_causal=causal))
                row = dict(d=d, causal=causal, s=s, identical=identical,
                           tflops_new=flops / t["fa4 p=0.1"] / 1e9,
                           **{n: round(ms, 4) for n, ms in t.items()})
                rows.append(row)
                print(json.dumps(row), flush=True)
    print("| d | causal | s | fa4 p=0 | fa4 old p=0.1 | fa4 new p=0.1 | new/old speedup "
          "| overhead old | overhead new | FA2 p=0 | FA2 p=0.1 | FA2 overhead | FA2/fa4 with dropout |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        p0, pn, po = r["fa4 p=0"], r["fa4 p=0.1"], r["fa4 old p=0.1"]
        f0, f1 = r["FA2 p=0"], r["FA2 p=0.1"]
        print(f"| {r['d']} | {int(r['causal'])} | {r['s']} | {p0:.3f} | {po:.3f} | {pn:.3f} | "
              f"{po / pn:.3f} | {po / p0:.3f} | {pn / p0:.3f} | {f0:.3f} | {f1:.3f} | {f1 / f0:.3f} | "
              f"{f1 / pn:.2f} |")
    bad = [r for r in rows if not r["identical"]]
    print("outputs bit-identical old/new:", "all" if not bad else f"NOT for {len(bad)} rows")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "_old"))
