// RUN: fa4-opt %s --split-input-file --fa4-tile-attention="chip=sm_120a" --verify-diagnostics

// expected-error @+1 {{is pinned to sm_121a but is being compiled for sm_120a}}
fa4.attention @pinned dtype(bf16) head_dim(64) head_dim_v(64) load_path(cp_async)
    stages(1) target(sm_121a)
