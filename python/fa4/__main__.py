"""python -m fa4: the runtime's view of this machine.

Prints the package and runtime library (path, version), the embedded
kernels by target, the CUDA driver and each GPU with the target that runs on
it (or the reason there is none), and whether torch's operators are
registered. Exits 1 when the runtime library cannot be loaded.
"""

import collections
import sys
from pathlib import Path

import fa4
from fa4 import _runtime as rt


def _driver_text(version):
    return f"CUDA {version // 1000}.{version % 1000 // 10} ({version})"


def main():
    print(f"fa4 {fa4.__version__}")
    print(f"  package:  {Path(fa4.__file__).resolve().parent}")
    try:
        lib = rt.library()
    except OSError as error:
        print(f"  runtime:  not loaded: {error}")
        return 1
    version = lib.fa4_version().decode()
    mismatch = "" if version == fa4.__version__ else f" (the package is {fa4.__version__})"
    print(f"  runtime:  {lib.fa4_path}, version {version}{mismatch}")

    by_target = collections.Counter(target for _, target in rt.modules())
    names = {name for name, _ in rt.modules()}
    targets = ", ".join(f"{target} ({count})" for target, count in sorted(by_target.items()))
    print(f"  kernels:  {len(names)} kernel modules embedded for {targets}")

    status, info, why = rt.device_info(0)
    if status == rt.NO_CUDA_DRIVER:
        print(f"  driver:   none: {why}")
    else:
        print(f"  driver:   {_driver_text(info.driver_version)}")
    if status in (rt.NO_CUDA_DRIVER, rt.NO_GPU):
        print(f"  device:   none: {why}")
    elif status != rt.SUCCESS:
        print(f"  device 0: unavailable: {why}")
    for ordinal in range(info.device_count if status == rt.SUCCESS else 0):
        if ordinal:
            status, info, why = rt.device_info(ordinal)
            if status != rt.SUCCESS:
                print(f"  device {ordinal}: unavailable: {why}")
                continue
        target = info.target.decode() if info.target else None
        runs = (f"runs the {target} kernels" if target else
                "no fa4 kernels for it (this library embeds " + ", ".join(sorted(by_target))
                + ")")
        print(f"  device {ordinal}: {info.name.decode()}, compute capability "
              f"{info.compute_capability_major}.{info.compute_capability_minor}, "
              f"{info.multiprocessors} SMs, {info.shared_memory_per_block_optin // 1024} KB "
              f"shared memory per block: {runs}")

    try:
        import torch
    except ImportError:
        print("  torch:    not installed (fa4's entry points need it; the C API does not)")
        return 0
    from fa4 import _optional
    cuda = torch.version.cuda or "no CUDA"
    if _optional.ops is None:
        print(f"  torch:    {torch.__version__} ({cuda}); no operators: {_optional.reason}")
        return 0
    ops = [name for name in ("fwd", "varlen_fwd", "kvcache_fwd", "no_backward", "backward_error")
           if hasattr(torch.ops.fa4, name)]
    print(f"  torch:    {torch.__version__} ({cuda}); operators: "
          + ", ".join(f"torch.ops.fa4.{name}" for name in ops))
    return 0


if __name__ == "__main__":
    sys.exit(main())
