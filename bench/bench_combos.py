"""Combinations of masks and score modifications on the switchable kernels:
their time against the exact kernels of their parts, in one run.

For bf16, batch * seqlen = 16384, hidden 2048, d = 64 and 128, this times
  * FlashAttention-2 (SDPA FLASH), plain and causal, and causal with dropout;
  * fa4's exact kernels: causal + softcap and causal + ALiBi (both on the
    cp.async path, as the switchable kernels are), causal + dropout;
  * the switchable kernel on the same work: causal + softcap + ALiBi with
    slopes of 0 (bit-identical to causal + softcap, python/tests/
    test_combinations.py), so its ratio to causal + softcap is the cost of
    carrying the switches; causal + softcap + ALiBi with real slopes; a
    window (512, 0) with a softcap; causal + ALiBi + dropout p = 0.1
    against causal + dropout.

    PYTHONPATH=python python3 bench/bench_combos.py [--out DIR] [--quick]
"""

import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))
from bench import SDPBackend, bench, sdpa  # noqa: E402
from torch.nn.attention import sdpa_kernel  # noqa: E402

import fa4  # noqa: E402


def fa2_dropout(q, k, v):
    """FlashAttention-2's causal forward with dropout p = 0.1 (SDPA FLASH)."""
    with sdpa_kernel([SDPBackend.FLASH_ATTENTION]):
        return torch.nn.functional.scaled_dot_product_attention(
            q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), dropout_p=0.1,
            is_causal=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.environ.get("OUT", "."))
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    seqlens = [4096] if args.quick else [2048, 8192]
    rows = []
    for d in (64, 128):
        heads = 2048 // d
        for s in seqlens:
            b = 16384 // s
            torch.manual_seed(0)
            q = torch.randn(b, s, heads, d, device="cuda", dtype=torch.bfloat16)
            k = torch.randn(b, s, heads, d, device="cuda", dtype=torch.bfloat16)
            v = torch.randn(b, s, heads, d, device="cuda", dtype=torch.bfloat16)
            slopes = torch.rand(heads, device="cuda") * 0.3
            zero = torch.zeros(heads, device="cuda")
            cp = {"load_path": "cp_async"}
            f = fa4.flash_attn_func
            t = {
                "fa2": bench(lambda: sdpa(SDPBackend.FLASH_ATTENTION, q, k, v, False)),
                "fa2_causal": bench(lambda: sdpa(SDPBackend.FLASH_ATTENTION, q, k, v, True)),
                "fa2_causal_dropout": bench(lambda: fa2_dropout(q, k, v)),
                "causal": bench(lambda: f(q, k, v, causal=True)),
                "causal_softcap": bench(lambda: f(q, k, v, causal=True, softcap=30.0, **cp)),
                "causal_alibi": bench(lambda: f(q, k, v, causal=True, alibi_slopes=slopes,
                                                **cp)),
                "causal_dropout": bench(lambda: f(q, k, v, causal=True, dropout_p=0.1)),
                "sw_causal_softcap_alibi0": bench(
                    lambda: f(q, k, v, causal=True, softcap=30.0, alibi_slopes=zero)),
                "sw_causal_softcap_alibi": bench(
                    lambda: f(q, k, v, causal=True, softcap=30.0, alibi_slopes=slopes)),
                "window512": bench(lambda: f(q, k, v, window_size=(512, 0), **cp)),
                "sw_window512_softcap": bench(
                    lambda: f(q, k, v, window_size=(512, 0), softcap=30.0)),
                "sw_causal_alibi_dropout": bench(
                    lambda: f(q, k, v, causal=True, alibi_slopes=slopes, dropout_p=0.1)),
            }
            row = {"d": d, "seqlen": s, "batch": b, "heads": heads, "ms": t}
            rows.append(row)
            print(json.dumps(row), flush=True)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "bench_combos.json"), "w") as fh:
        json.dump({"device": torch.cuda.get_device_name(), "rows": rows}, fh, indent=1)
    lines = [f"device: {torch.cuda.get_device_name()}", "",
             "| d | seqlen | FA2 causal ms | fa4 causal | causal+softcap (cp.async) | "
             "switchable causal+softcap+alibi(0) (x causal+softcap) | "
             "switchable causal+softcap+alibi (x causal+softcap) | window(512,0) (cp.async) | "
             "switchable window(512,0)+softcap (x window) | FA2 causal dropout | "
             "fa4 causal dropout | switchable causal+alibi+dropout (x causal dropout) |",
             "|" + "---|" * 12]
    for r in rows:
        t = r["ms"]
        lines.append(
            f"| {r['d']} | {r['seqlen']} | {t['fa2_causal']:.3f} | {t['causal']:.3f} | "
            f"{t['causal_softcap']:.3f} | {t['sw_causal_softcap_alibi0']:.3f} "
            f"({t['sw_causal_softcap_alibi0'] / t['causal_softcap']:.3f}) | "
            f"{t['sw_causal_softcap_alibi']:.3f} "
            f"({t['sw_causal_softcap_alibi'] / t['causal_softcap']:.3f}) | "
            f"{t['window512']:.3f} | {t['sw_window512_softcap']:.3f} "
            f"({t['sw_window512_softcap'] / t['window512']:.3f}) | "
            f"{t['fa2_causal_dropout']:.3f} | {t['causal_dropout']:.3f} | "
            f"{t['sw_causal_alibi_dropout']:.3f} "
            f"({t['sw_causal_alibi_dropout'] / t['causal_dropout']:.3f}) |")
    text = "\n".join(lines)
    print(text)
    with open(os.path.join(args.out, "bench_combos.md"), "w") as fh:
        fh.write(text + "\n")


if __name__ == "__main__":
    main()
