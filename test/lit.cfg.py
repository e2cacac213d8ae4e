# -*- Python -*-
"""lit configuration of fa4's compiler tests."""

import os

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "FA4"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.excludes = ["CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py", "check_ptxas.py"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.fa4_obj_root, "test")

config.environment["FILECHECK_OPTS"] = "--enable-var-scope"
llvm_config.use_default_substitutions()
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)

tools = [
    ToolSubst("fa4-opt", unresolved="fatal"),
]
llvm_config.add_tool_substitutions(tools, [config.fa4_tools_dir, config.llvm_tools_dir])
config.substitutions.append(("%fa4_kernels", config.fa4_kernels_dir))
# A build that embeds PTX generated elsewhere (FA4_PTX_DIR) generates no
# kernels of its own: the build that generated them checked them.
if getattr(config, "fa4_prebuilt_ptx_dir", ""):
    config.available_features.add("prebuilt-kernels")
config.substitutions.append(("%fa4_src", config.fa4_src_root))
config.substitutions.append(("%python", config.python_executable))

# ptxas validates generated PTX for sm_120a/sm_121a without a GPU; tests that
# need it are UNSUPPORTED (with the reason in the test) where it is absent.
if config.ptxas and os.path.exists(config.ptxas):
    config.available_features.add("ptxas")
    config.substitutions.append(("%ptxas", config.ptxas))
