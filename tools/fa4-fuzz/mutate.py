#!/usr/bin/env python3
"""A mutation fuzzer for fa4-opt: mutates the seed corpus textually (edge-case
integers, deleted or duplicated lines, swapped types and keywords), runs each
mutant through the whole pipeline and through each pass alone, and keeps the
mutants that crash, hang or trip a sanitizer. It complements fa4-fuzz
(libFuzzer): its mutations know MLIR's lexical shape, so far fewer mutants die
in the parser.

    python3 tools/fa4-fuzz/mutate.py FA4_OPT CORPUS_DIR OUT_DIR [--count N]
        [--seed S] [--jobs J] [--timeout T]

Exit status 1 if any mutant failed; each one is written to OUT_DIR with the
command that failed and its output.
"""

import argparse
import concurrent.futures
import os
import pathlib
import random
import re
import subprocess
import tempfile

EDGE_INTEGERS = ["0", "1", "-1", "7", "8", "15", "17", "31", "33", "1023", "1025",
                 "65535", "65536", "2147483647", "2147483648", "4294967296",
                 "2305843009213693952", "9223372036854775807",
                 "-9223372036854775808", "99999999999999999999"]
TYPES = ["bf16", "f16", "f32", "i32", "i64", "i1", "index", "!llvm.ptr<1>",
         "!llvm.ptr<3>", "!llvm.ptr", "vector<4xf32>"]
KEYWORDS = ["causal", "varlen", "paged_kv", "cp_async", "tma", "none", "else",
            "producer", "consumers", "warps", "stages", "limit", "stride"]

# What each mutant is run through: the pipeline, and every pass alone.
MODES = [
    ["--fa4-to-ptx=chip=sm_120a output-dir={tmp}"],
    ["--pass-pipeline=builtin.module(fa4-tile-attention)"],
    ["--pass-pipeline=builtin.module(gpu.module(fa4-schedule-kv-loop))"],
    ["--pass-pipeline=builtin.module(gpu.module(fa4-scope-attention))"],
    ["--pass-pipeline=builtin.module(gpu.module(convert-fa4-to-nvvm))"],
    ["--fa4-emit-ptx=chip=sm_120a output-dir={tmp}"],
    ["--canonicalize"],
]

# Known upstream MLIR 22 crashes that fa4 cannot fix (README, "Known
# upstream limitations"): skipped so that they do not drown the rest.
KNOWN_UPSTREAM = [re.compile(r"llvm\.(extract|insert)value[^\n]*\[[^\]]*\d{6,}"),
                  re.compile(r"array<index")]


def mutate(text, rng):
    """One to three random textual mutations of `text`."""
    for _ in range(rng.randint(1, 3)):
        kind = rng.randrange(5)
        if kind == 0:
            numbers = list(re.finditer(r"(?<![\w%#.])-?\d+(?![\w.])", text))
            if numbers:
                m = rng.choice(numbers)
                text = text[:m.start()] + rng.choice(EDGE_INTEGERS) + text[m.end():]
        elif kind in (1, 2):
            lines = text.split("\n")
            if len(lines) > 1:
                i = rng.randrange(len(lines))
                if kind == 1:
                    del lines[i]
                else:
                    lines.insert(rng.randrange(len(lines)), lines[i])
                text = "\n".join(lines)
        elif kind == 3:
            found = [m for t in TYPES for m in re.finditer(re.escape(t), text)]
            if found:
                m = rng.choice(found)
                text = text[:m.start()] + rng.choice(TYPES) + text[m.end():]
        else:
            found = [m for k in KEYWORDS for m in re.finditer(r"\b%s\b" % k, text)]
            if found:
                m = rng.choice(found)
                text = text[:m.start()] + rng.choice(KEYWORDS) + text[m.end():]
    return text


def run_one(fa4_opt, mutant, timeout):
    """Returns (why, command, output) for a failing mutant, else None."""
    with tempfile.TemporaryDirectory() as tmp:
        source = os.path.join(tmp, "input.mlir")
        with open(source, "w") as f:
            f.write(mutant)
        for mode in MODES:
            cmd = [fa4_opt, source] + [m.format(tmp=tmp) for m in mode] + ["-o", os.devnull]
            try:
                p = subprocess.run(cmd, capture_output=True, timeout=timeout)
            except subprocess.TimeoutExpired:
                return "hang", cmd, ""
            err = p.stderr.decode(errors="replace")
            if p.returncode < 0 or p.returncode > 1:
                return f"exit {p.returncode}", cmd, err
            if "AddressSanitizer" in err or "runtime error:" in err or \
                    "LeakSanitizer" in err:
                return "sanitizer", cmd, err
    return None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("fa4_opt")
    parser.add_argument("corpus")
    parser.add_argument("out")
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--timeout", type=float, default=20)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    seeds = [p.read_text(errors="replace") for p in sorted(pathlib.Path(args.corpus).iterdir())]
    mutants = []
    while len(mutants) < args.count:
        mutant = mutate(rng.choice(seeds), rng)
        if not any(p.search(mutant) for p in KNOWN_UPSTREAM):
            mutants.append(mutant)
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    failures = 0
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        futures = {pool.submit(run_one, args.fa4_opt, m, args.timeout): i
                   for i, m in enumerate(mutants)}
        for future in concurrent.futures.as_completed(futures):
            result = future.result()
            if result is None:
                continue
            failures += 1
            why, cmd, err = result
            i = futures[future]
            (out / f"mutant{i}.mlir").write_text(mutants[i])
            (out / f"mutant{i}.txt").write_text(f"{why}\n{' '.join(cmd)}\n\n{err[-4000:]}")
            print(f"mutant {i}: {why}", flush=True)
    print(f"{len(mutants)} mutants, {failures} failing")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
