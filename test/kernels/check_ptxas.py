"""Assembles every generated kernel with `ptxas -v` and checks its resources.

    check_ptxas.py PTXAS BUILD_KERNELS_DIR SOURCE_KERNELS_DIR TARGET...

Fails (exit 1, naming the kernel) on any spill, any stack frame, shared
memory over 101376 B, a module of kernels/ with no PTX for a target, or a
kernel of a module's metadata that its PTX lacks (and vice versa). Prints one
resource line per kernel and a summary line.
"""

import concurrent.futures
import json
import os
import re
import subprocess
import sys

BUDGET = 101376


def main():
    ptxas, build, source, targets = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    names = sorted(f[:-5] for f in os.listdir(source) if f.endswith(".mlir"))
    problems = []
    max_smem = 0

    def assemble(job):
        target, name = job
        ptx = os.path.join(build, target, name + ".ptx")
        if not os.path.exists(ptx):
            return None
        return subprocess.run([ptxas, "-v", f"-arch={target}", ptx, "-o", os.devnull],
                              capture_output=True, text=True)

    # One ptxas per core; the results are read back in order.
    jobs = [(target, name) for target in targets for name in names]
    with concurrent.futures.ThreadPoolExecutor(os.cpu_count() or 1) as pool:
        results = dict(zip(jobs, pool.map(assemble, jobs)))
    for target in targets:
        for name in names:
            ptx = os.path.join(build, target, name + ".ptx")
            meta = os.path.join(build, target, name + ".json")
            result = results[(target, name)]
            if result is None or not os.path.exists(meta):
                problems.append(f"{target}/{name}: no PTX (kernels/{name}.mlir not built)")
                continue
            log = result.stdout + result.stderr
            if result.returncode != 0:
                problems.append(f"{target}/{name}: ptxas failed:\n{log}")
                continue
            kernels = {k["name"]: k for k in json.load(open(meta))["kernels"]}
            # ptxas reports each entry function in its own block.
            blocks = re.split(r"Compiling entry function '(\w+)'", log)[1:]
            seen = set()
            for entry, block in zip(blocks[::2], blocks[1::2]):
                if entry not in kernels:
                    problems.append(f"{target}/{name}: PTX entry {entry} has no metadata")
                    continue
                seen.add(entry)
                stack = int(re.search(r"(\d+) bytes stack frame", block).group(1))
                spills = sum(int(x) for x in
                             re.findall(r"(\d+) bytes spill (?:stores|loads)", block))
                regs = int(re.search(r"Used (\d+) registers", block).group(1))
                static = re.search(r"(\d+) bytes smem", block)
                smem = (int(static.group(1)) if static else 0) + kernels[entry]["smem_bytes"]
                max_smem = max(max_smem, smem)
                print(f"{target} {name}/{entry}: {regs} registers, {spills} spill bytes, "
                      f"{stack} stack bytes, {smem} B shared memory")
                if spills or stack or smem > BUDGET:
                    problems.append(f"{target}/{name}/{entry}: {spills} spill bytes, "
                                    f"{stack} stack bytes, {smem} B shared memory")
            for missing in sorted(set(kernels) - seen):
                problems.append(f"{target}/{name}: kernel {missing} is not in the PTX")
    if problems:
        print("\n".join(["FAILED:"] + problems))
        return 1
    print(f"ptxas: {len(names)} kernels x {len(targets)} targets, 0 spill bytes, 0 stack bytes, "
          f"max shared memory {max_smem} B <= {BUDGET} B")
    return 0


if __name__ == "__main__":
    sys.exit(main())
