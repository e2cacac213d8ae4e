// RUN: fa4-opt %s --split-input-file --verify-diagnostics

// Every invalid or not-yet-built combination is rejected by name.

// expected-error @+1 {{dtype must be bf16 or f16, got 'f32'}}
fa4.attention @k dtype(f32) head_dim(64) head_dim_v(64) load_path(cp_async) stages(1)

// -----

// expected-error @+1 {{head_dim 100 is not a positive multiple of 8}}
fa4.attention @k dtype(bf16) head_dim(100) head_dim_v(100) load_path(cp_async) stages(1)

// -----

// expected-error @+1 {{head_dim_v 60 is not a positive multiple of 8}}
fa4.attention @k dtype(bf16) head_dim(64) head_dim_v(60) load_path(cp_async) stages(1)

// -----

// expected-error @+1 {{causal and window are exclusive}}
fa4.attention @k dtype(bf16) head_dim(64) head_dim_v(64) causal window load_path(cp_async) stages(1)

// -----

// expected-error @+1 {{stages must be 1 or 2, got 3}}
fa4.attention @k dtype(bf16) head_dim(64) head_dim_v(64) load_path(cp_async) stages(3)

// -----

// expected-error @+1 {{varlen requires the cp_async load path}}
fa4.attention @k dtype(bf16) head_dim(64) head_dim_v(64) varlen load_path(tma) stages(2)

// -----

// expected-error @+1 {{paged KV requires the cp_async load path}}
fa4.attention @k dtype(bf16) head_dim(64) head_dim_v(64) paged_kv load_path(tma) stages(2)

// -----

// expected-error @+1 {{block-sparse requires the cp_async load path}}
fa4.attention @k dtype(bf16) head_dim(64) head_dim_v(64) block_sparse load_path(tma) stages(2)

// -----

// expected-error @+1 {{dropout requires the cp_async load path}}
fa4.attention @k dtype(bf16) head_dim(64) head_dim_v(64) dropout load_path(tma) stages(2)

// -----

// expected-error @+1 {{the TMA load path needs at least 2 K/V stages}}
fa4.attention @k dtype(bf16) head_dim(64) head_dim_v(64) load_path(tma) stages(1)

// -----

// expected-error @+1 {{warps(...) needs tile(m, n)}}
fa4.attention @k dtype(bf16) head_dim(64) head_dim_v(64) load_path(cp_async) stages(1) warps(8)

// -----

// expected-error @+1 {{warps must be 4 or 8, got 6}}
fa4.attention @k dtype(bf16) head_dim(64) head_dim_v(64) load_path(cp_async) stages(1) tile(96, 64) warps(6)

// -----

// expected-error @+1 {{tile m (96) must be a positive multiple of 16 x warps (128)}}
fa4.attention @k dtype(bf16) head_dim(64) head_dim_v(64) load_path(cp_async) stages(1) tile(96, 64) warps(8)

// -----

// expected-error @+1 {{tile n (24) must be a positive multiple of 16}}
fa4.attention @k dtype(bf16) head_dim(64) head_dim_v(64) load_path(cp_async) stages(1) tile(128, 24) warps(8)

// -----

// expected-error @+1 {{tile 128x128 with head_dim_v 128, 4 warps needs 256 registers per thread for accumulators; at most 192}}
fa4.attention @k dtype(bf16) head_dim(128) head_dim_v(128) load_path(cp_async) stages(1) tile(128, 128) warps(4)

// -----

// expected-error @+1 {{tile configuration needs 163840 B of shared memory; sm_120a allows 101376 B per block}}
fa4.attention @k dtype(bf16) head_dim(128) head_dim_v(128) load_path(cp_async) stages(2) tile(128, 128) warps(8)

// -----

// expected-error @+1 {{tile configuration needs 163840 B of shared memory; sm_121a allows 101376 B per block}}
fa4.attention @k dtype(bf16) head_dim(128) head_dim_v(128) load_path(cp_async) stages(2) tile(128, 128) warps(8) target(sm_121a)

// -----

// expected-error @+1 {{the K tile (48x64) cannot be copied by 256 threads in passes of 32 full rows}}
fa4.attention @k dtype(bf16) head_dim(64) head_dim_v(64) load_path(cp_async) stages(1) tile(128, 48) warps(8)

// -----

// expected-error @+1 {{head_dim_v 80 is not built (built: 32, 64, 96, 128, 160, 192, 224, 256)}}
fa4.attention @k dtype(bf16) head_dim(128) head_dim_v(80) load_path(cp_async) stages(1)

// -----

// expected-error @+1 {{head_dim 80 is not built (built: 32, 64, 96, 128, 160, 192, 224, 256)}}
fa4.attention @k dtype(bf16) head_dim(80) head_dim_v(80) load_path(cp_async) stages(1) tile(64, 64) warps(4)

// -----

// expected-error @+1 {{the TMA load path is built for head dims up to 128, not (160, 160)}}
fa4.attention @k dtype(bf16) head_dim(160) head_dim_v(160) load_path(tma) stages(2) tile(128, 32)

// -----


// expected-error @+1 {{paged KV needs varlen or kv_cache (its lengths come from cu_seqlens or cache_seqlens)}}
fa4.attention @k dtype(bf16) head_dim(64) head_dim_v(64) paged_kv load_path(cp_async) stages(2)

// -----

// expected-error @+1 {{split-KV is built for kv_cache kernels only}}
fa4.attention @k dtype(bf16) head_dim(64) head_dim_v(64) split_kv load_path(cp_async) stages(1)

// -----

// expected-error @+1 {{split-KV with a learnable sink is not built (the sink belongs in the combine, applied once)}}
fa4.attention @k dtype(bf16) head_dim(64) head_dim_v(64) sink kv_cache split_kv load_path(cp_async) stages(2)

// -----

// expected-error @+1 {{kv_cache and varlen are exclusive: the cache states its own lengths (cache_seqlens)}}
fa4.attention @k dtype(bf16) head_dim(64) head_dim_v(64) varlen kv_cache load_path(cp_async) stages(2)

// -----

// expected-error @+1 {{kv_cache requires the cp_async load path}}
fa4.attention @k dtype(bf16) head_dim(64) head_dim_v(64) kv_cache load_path(tma) stages(2)

// -----

gpu.module @m {
  gpu.func @merge_width(%p: !llvm.ptr<1>, %n: i32, %s: i64) kernel {
    // expected-error @+1 {{merges 1, 2 or 4 columns per thread (one load of at most 16 bytes per split), got 8}}
    %o, %l = fa4.merge_splits %p, %p splits(%n) strides(%s, %s) : vector<8xf32>
    gpu.return
  }
}

// -----

gpu.module @m {
  gpu.func @split_half(%i: i32) kernel {
    // expected-error @+1 {{split needs both the index and the count}}
    %r:4 = "fa4.kv_range"(%i, %i, %i, %i) <{mask = 0 : i32, operandSegmentSizes = array<i32: 0, 0, 1, 1, 1, 1, 0>, tile_m = 128 : i64, tile_n = 64 : i64}> : (i32, i32, i32, i32) -> (i32, i32, i32, i32)
    gpu.return
  }
}

// -----

// expected-error @+1 {{dropout is not built for kv_cache kernels (flash_attn_with_kvcache takes no dropout)}}
fa4.attention @k dtype(bf16) head_dim(64) head_dim_v(64) kv_cache dropout load_path(cp_async) stages(1)

// -----

// expected-error @+1 {{dropout requires the cp_async load path}}
fa4.attention @k dtype(bf16) head_dim(64) head_dim_v(64) dropout load_path(tma) stages(2)


// -----

// expected-error @+1 {{return_probs needs dropout (FlashAttention-2 returns S_dmask only with dropout_p > 0)}}
fa4.attention @k dtype(bf16) head_dim(64) head_dim_v(64) return_probs load_path(cp_async) stages(1)

// -----

// expected-error @+1 {{return_probs is built for dense and unpaged varlen kernels only}}
fa4.attention @k dtype(bf16) head_dim(64) head_dim_v(64) varlen paged_kv dropout return_probs load_path(cp_async) stages(1)

// -----

// expected-error @+1 {{return_probs with block_sparse is not built (S_dmask's entries follow the running max in the range's order; block lists have their own)}}
fa4.attention @k dtype(bf16) head_dim(64) head_dim_v(64) causal dropout return_probs block_sparse load_path(cp_async) stages(1)

// -----

// expected-error @+1 {{block-sparse is not built for kv_cache or split_kv kernels}}
fa4.attention @k dtype(bf16) head_dim(64) head_dim_v(64) kv_cache block_sparse load_path(cp_async) stages(1)

// -----

// expected-error @+1 {{a TMA box has at most 256 rows, the tile is 384x16}}
fa4.attention @k dtype(bf16) head_dim(64) head_dim_v(64) load_path(tma) stages(2) tile(384, 16) warps(8)

// -----

// Block-level program: ownership, guards and shapes.

gpu.module @m {
  gpu.func @buffer_outside_scope() kernel {
    // expected-error @+1 {{'Q' must be declared inside a fa4.scope, which owns it}}
    %sq = fa4.smem_buffer "Q" : !fa4.smem<64x64xbf16>
    gpu.return
  }
}

// -----

gpu.module @m {
  gpu.func @shared_between_paths(%sk: !fa4.smem<64x64xbf16>) kernel {
    fa4.scope "dense" {
      %sq = fa4.smem_buffer "Q" : !fa4.smem<128x64xbf16>
      fa4.scope "block_sparse" {
        // expected-error @+1 {{uses shared-memory buffer 'Q' declared outside scope 'block_sparse': each variant path owns its buffers}}
        %s = fa4.qk_mma %sq, %sk : !fa4.smem<128x64xbf16>, !fa4.smem<64x64xbf16> -> !fa4.acc<128x64xf32, warps = 8>
      }
    }
    gpu.return
  }
}

// -----

gpu.module @m {
  gpu.func @duplicate_buffer() kernel {
    fa4.scope "dense" {
      %a = fa4.smem_buffer "O_stage" : !fa4.smem<64x64xbf16>
      // expected-error @+1 {{redeclares shared-memory buffer 'O_stage' in scope 'dense'}}
      %b = fa4.smem_buffer "O_stage" : !fa4.smem<64x64xbf16>
    }
    gpu.return
  }
}

// -----

gpu.module @m {
  gpu.func @misaligned_offset() kernel {
    fa4.scope "dense" {
      // expected-error @+1 {{offset 512 is not 1024-byte aligned}}
      %a = fa4.smem_buffer "K" at 512 : !fa4.smem<64x64xbf16>
    }
    gpu.return
  }
}

// -----

gpu.module @m {
  gpu.func @guard_without_skipped_value(%c: i1, %x: f32) kernel {
    %o0 = fa4.splat %x : !fa4.acc<128x64xf32, warps = 8>
    // expected-error @+1 {{body yields 0 values whose types differ from the 1 results: every result needs a value on both the guarded and the skipped path}}
    %r = fa4.guard %c else(%o0 : !fa4.acc<128x64xf32, warps = 8>) {
      fa4.yield
    }
    gpu.return
  }
}

// -----

gpu.module @m {
  gpu.func @qk_head_dims(%sq: !fa4.smem<128x64xbf16>, %sk: !fa4.smem<64x128xbf16>) kernel {
    // expected-error @+1 {{Q has head dim 64 but K has 128}}
    %s = fa4.qk_mma %sq, %sk : !fa4.smem<128x64xbf16>, !fa4.smem<64x128xbf16> -> !fa4.acc<128x64xf32, warps = 8>
    gpu.return
  }
}

// -----

gpu.module @m {
  gpu.func @qk_result(%sq: !fa4.smem<128x64xbf16>, %sk: !fa4.smem<64x64xbf16>) kernel {
    // expected-error @+1 {{result must be 128x64, got '!fa4.acc<128x128xf32, warps = 8>'}}
    %s = fa4.qk_mma %sq, %sk : !fa4.smem<128x64xbf16>, !fa4.smem<64x64xbf16> -> !fa4.acc<128x128xf32, warps = 8>
    gpu.return
  }
}

// -----

gpu.module @m {
  gpu.func @pv_shapes(%p: !fa4.afrag<128x64xbf16, warps = 8>, %sv: !fa4.smem<128x64xbf16>, %x: f32) kernel {
    %o = fa4.splat %x : !fa4.acc<128x64xf32, warps = 8>
    // expected-error @+1 {{P has 64 columns but V has 128 rows}}
    %o2 = fa4.pv_mma %p, %sv, %o : !fa4.afrag<128x64xbf16, warps = 8>, !fa4.smem<128x64xbf16> -> !fa4.acc<128x64xf32, warps = 8>
    gpu.return
  }
}

// -----

gpu.module @m {
  gpu.func @pack_shape(%x: f32) kernel {
    %s = fa4.splat %x : !fa4.acc<128x64xf32, warps = 8>
    // expected-error @+1 {{do not have the shape and warps of}}
    %p = fa4.pack_a %s : !fa4.acc<128x64xf32, warps = 8> -> !fa4.afrag<128x64xbf16, warps = 4>
    gpu.return
  }
}

// -----

gpu.module @m {
  gpu.func @rows_mismatch(%x: f32) kernel {
    %o = fa4.splat %x : !fa4.acc<128x64xf32, warps = 8>
    %c = fa4.splat %x : !fa4.rows<64, warps = 4>
    // expected-error @+1 {{factor '!fa4.rows<64, warps = 4>' does not describe the rows of '!fa4.acc<128x64xf32, warps = 8>'}}
    %o2 = fa4.rescale %o by %c : !fa4.acc<128x64xf32, warps = 8>, !fa4.rows<64, warps = 4>
    gpu.return
  }
}

// -----

// expected-error @+1 {{accumulator rows (96) must be a multiple of 16 x warps (128)}}
func.func private @acc_rows() -> !fa4.acc<96x64xf32, warps = 8>

// -----

// expected-error @+1 {{shared-memory tiles hold bf16 or f16, got 'f32'}}
func.func private @smem_f32() -> !fa4.smem<64x64xf32>

// -----

// expected-error @+1 {{tile cols (40) must be a positive multiple of 32}}
func.func private @smem_cols() -> !fa4.smem<64x40xbf16>

// -----

gpu.module @m {
  gpu.func @store_i32(%x: f32, %p: !llvm.ptr<1>, %i: i32) kernel {
    %o = fa4.splat %x : !fa4.acc<128x64xf32, warps = 8>
    // expected-error @+1 {{stores bf16, f16 or f32, got 'i32'}}
    fa4.store_tile %o, %p[%i] limit %i stride %i : !fa4.acc<128x64xf32, warps = 8> as i32
    gpu.return
  }
}

// -----

gpu.module @m {
  gpu.func @setmaxnreg_counts() kernel {
    // expected-error @+1 {{setmaxnreg counts must be multiples of 8 in [24, 256], got 250}}
    fa4.warp_specialize consumer_warps(8) registers(40, 250) producer {
      fa4.commit_loads
    } consumers {
      fa4.commit_loads
    }
    gpu.return
  }
}

// -----

gpu.module @m {
  gpu.func @barriers_outside_scope() kernel {
    // expected-error @+1 {{'full' must be declared inside a fa4.scope, which owns it}}
    %full = fa4.smem_barriers "full" : !fa4.mbarriers<2>
    gpu.return
  }
}

// -----

// expected-error @+1 {{an mbarrier array needs at least one barrier}}
func.func private @no_barriers() -> !fa4.mbarriers<0>

// -----

gpu.module @m {
  gpu.func @one_register_count() kernel {
    // expected-error @+1 {{registers(producer, consumers) needs both counts}}
    "fa4.warp_specialize"() <{consumer_warps = 8 : i64, producer_registers = 40 : i64}> ({
      fa4.commit_loads
    }, {
      fa4.commit_loads
    }) : () -> ()
    gpu.return
  }
}

// -----

gpu.module @m {
  gpu.func @barriers_misaligned() kernel {
    fa4.scope "dense" {
      // expected-error @+1 {{offset 98308 is not 8-byte aligned}}
      %full = fa4.smem_barriers "full" at 98308 : !fa4.mbarriers<2>
    }
    gpu.return
  }
}

// -----

// fa4.kv_loop: each source kind checks its operands, K and V share a kind,
// and the body takes (n, q, k, v, state...) and yields the state.
gpu.module @m {
  gpu.func @arity(%p: !llvm.ptr<1>, %d: !llvm.ptr, %i: i32, %l: i64) kernel {
    fa4.scope "dense" {
      %qt = fa4.smem_buffer "Q" : !fa4.smem<128x64xbf16>
      %zero = arith.constant 0.0 : f32
      %o0 = fa4.splat %zero : !fa4.acc<128x64xf32, warps = 8>
      // expected-error @+1 {{source of k: #fa4.contiguous takes 3 operands (base, row_stride, limit), got 2}}
      %r = fa4.kv_loop [%i, %i, %i, %i] stages(1)
          q %qt[%i] : !fa4.smem<128x64xbf16> #fa4.contiguous(%p, %i, %i : !llvm.ptr<1>, i32, i32)
          k #fa4.contiguous(%p, %i : !llvm.ptr<1>, i32)
          v #fa4.contiguous(%p, %i, %i : !llvm.ptr<1>, i32, i32)
          init(%o0) : !fa4.acc<128x64xf32, warps = 8> {
      ^bb0(%n: i32, %qa: !fa4.smem<128x64xbf16>, %kb: !fa4.smem<64x64xbf16>, %vb: !fa4.smem<64x64xbf16>, %o: !fa4.acc<128x64xf32, warps = 8>):
        fa4.yield %o : !fa4.acc<128x64xf32, warps = 8>
      }
    }
    gpu.return
  }
}

// -----

gpu.module @m {
  gpu.func @types(%p: !llvm.ptr<1>, %d: !llvm.ptr, %i: i32, %l: i64) kernel {
    fa4.scope "dense" {
      %qt = fa4.smem_buffer "Q" : !fa4.smem<128x64xbf16>
      %zero = arith.constant 0.0 : f32
      %o0 = fa4.splat %zero : !fa4.acc<128x64xf32, warps = 8>
      // expected-error @+1 {{source of v: #fa4.paged operand 'page_stride' must be i64, got 'i32'}}
      %r = fa4.kv_loop [%i, %i, %i, %i] stages(1)
          q %qt[%i] : !fa4.smem<128x64xbf16> #fa4.contiguous(%p, %i, %i : !llvm.ptr<1>, i32, i32)
          k #fa4.paged(%p, %i, %i, %p, %i, %i, %i, %l, %i : !llvm.ptr<1>, i32, i32, !llvm.ptr<1>, i32, i32, i32, i64, i32)
          v #fa4.paged(%p, %i, %i, %p, %i, %i, %i, %i, %i : !llvm.ptr<1>, i32, i32, !llvm.ptr<1>, i32, i32, i32, i32, i32)
          init(%o0) : !fa4.acc<128x64xf32, warps = 8> {
      ^bb0(%n: i32, %qa: !fa4.smem<128x64xbf16>, %kb: !fa4.smem<64x64xbf16>, %vb: !fa4.smem<64x64xbf16>, %o: !fa4.acc<128x64xf32, warps = 8>):
        fa4.yield %o : !fa4.acc<128x64xf32, warps = 8>
      }
    }
    gpu.return
  }
}

// -----

gpu.module @m {
  gpu.func @mixed(%p: !llvm.ptr<1>, %d: !llvm.ptr, %i: i32, %l: i64) kernel {
    fa4.scope "dense" {
      %qt = fa4.smem_buffer "Q" : !fa4.smem<128x64xbf16>
      %zero = arith.constant 0.0 : f32
      %o0 = fa4.splat %zero : !fa4.acc<128x64xf32, warps = 8>
      // expected-error @+1 {{K and V must come from the same source kind, got #fa4.contiguous and #fa4.paged}}
      %r = fa4.kv_loop [%i, %i, %i, %i] stages(1)
          q %qt[%i] : !fa4.smem<128x64xbf16> #fa4.contiguous(%p, %i, %i : !llvm.ptr<1>, i32, i32)
          k #fa4.contiguous(%p, %i, %i : !llvm.ptr<1>, i32, i32)
          v #fa4.paged(%p, %i, %i, %p, %i, %i, %i, %l, %i : !llvm.ptr<1>, i32, i32, !llvm.ptr<1>, i32, i32, i32, i64, i32)
          init(%o0) : !fa4.acc<128x64xf32, warps = 8> {
      ^bb0(%n: i32, %qa: !fa4.smem<128x64xbf16>, %kb: !fa4.smem<64x64xbf16>, %vb: !fa4.smem<64x64xbf16>, %o: !fa4.acc<128x64xf32, warps = 8>):
        fa4.yield %o : !fa4.acc<128x64xf32, warps = 8>
      }
    }
    gpu.return
  }
}

// -----

gpu.module @m {
  gpu.func @tma_mixed(%p: !llvm.ptr<1>, %d: !llvm.ptr, %i: i32, %l: i64) kernel {
    fa4.scope "dense" {
      %qt = fa4.smem_buffer "Q" : !fa4.smem<128x64xbf16>
      %zero = arith.constant 0.0 : f32
      %o0 = fa4.splat %zero : !fa4.acc<128x64xf32, warps = 8>
      // expected-error @+1 {{Q and K/V must all arrive by TMA or all by cp.async}}
      %r = fa4.kv_loop [%i, %i, %i, %i] stages(2)
          q %qt[%i] : !fa4.smem<128x64xbf16> #fa4.contiguous(%p, %i, %i : !llvm.ptr<1>, i32, i32)
          k #fa4.tma(%d, %i, %i : !llvm.ptr, i32, i32)
          v #fa4.tma(%d, %i, %i : !llvm.ptr, i32, i32)
          init(%o0) : !fa4.acc<128x64xf32, warps = 8> {
      ^bb0(%n: i32, %qa: !fa4.smem<128x64xbf16>, %kb: !fa4.smem<64x64xbf16>, %vb: !fa4.smem<64x64xbf16>, %o: !fa4.acc<128x64xf32, warps = 8>):
        fa4.yield %o : !fa4.acc<128x64xf32, warps = 8>
      }
    }
    gpu.return
  }
}

// -----

gpu.module @m {
  gpu.func @tma_one(%p: !llvm.ptr<1>, %d: !llvm.ptr, %i: i32, %l: i64) kernel {
    fa4.scope "dense" {
      %qt = fa4.smem_buffer "Q" : !fa4.smem<128x64xbf16>
      %zero = arith.constant 0.0 : f32
      %o0 = fa4.splat %zero : !fa4.acc<128x64xf32, warps = 8>
      // expected-error @+1 {{tiles arriving by TMA need at least 2 stages}}
      %r = fa4.kv_loop [%i, %i, %i, %i] stages(1)
          q %qt[%i] : !fa4.smem<128x64xbf16> #fa4.tma(%d, %i, %i : !llvm.ptr, i32, i32)
          k #fa4.tma(%d, %i, %i : !llvm.ptr, i32, i32)
          v #fa4.tma(%d, %i, %i : !llvm.ptr, i32, i32)
          init(%o0) : !fa4.acc<128x64xf32, warps = 8> {
      ^bb0(%n: i32, %qa: !fa4.smem<128x64xbf16>, %kb: !fa4.smem<64x64xbf16>, %vb: !fa4.smem<64x64xbf16>, %o: !fa4.acc<128x64xf32, warps = 8>):
        fa4.yield %o : !fa4.acc<128x64xf32, warps = 8>
      }
    }
    gpu.return
  }
}

// -----

gpu.module @m {
  gpu.func @stages(%p: !llvm.ptr<1>, %d: !llvm.ptr, %i: i32, %l: i64) kernel {
    fa4.scope "dense" {
      %qt = fa4.smem_buffer "Q" : !fa4.smem<128x64xbf16>
      %zero = arith.constant 0.0 : f32
      %o0 = fa4.splat %zero : !fa4.acc<128x64xf32, warps = 8>
      // expected-error @+1 {{stages must be 1 or 2, got 3}}
      %r = fa4.kv_loop [%i, %i, %i, %i] stages(3)
          q %qt[%i] : !fa4.smem<128x64xbf16> #fa4.contiguous(%p, %i, %i : !llvm.ptr<1>, i32, i32)
          k #fa4.contiguous(%p, %i, %i : !llvm.ptr<1>, i32, i32)
          v #fa4.contiguous(%p, %i, %i : !llvm.ptr<1>, i32, i32)
          init(%o0) : !fa4.acc<128x64xf32, warps = 8> {
      ^bb0(%n: i32, %qa: !fa4.smem<128x64xbf16>, %kb: !fa4.smem<64x64xbf16>, %vb: !fa4.smem<64x64xbf16>, %o: !fa4.acc<128x64xf32, warps = 8>):
        fa4.yield %o : !fa4.acc<128x64xf32, warps = 8>
      }
    }
    gpu.return
  }
}

// -----

gpu.module @m {
  gpu.func @args(%p: !llvm.ptr<1>, %d: !llvm.ptr, %i: i32, %l: i64) kernel {
    fa4.scope "dense" {
      %qt = fa4.smem_buffer "Q" : !fa4.smem<128x64xbf16>
      %zero = arith.constant 0.0 : f32
      %o0 = fa4.splat %zero : !fa4.acc<128x64xf32, warps = 8>
      // expected-error @+1 {{body takes (n, q, k, v) and 1 state values, got 4 arguments}}
      %r = fa4.kv_loop [%i, %i, %i, %i] stages(1)
          q %qt[%i] : !fa4.smem<128x64xbf16> #fa4.contiguous(%p, %i, %i : !llvm.ptr<1>, i32, i32)
          k #fa4.contiguous(%p, %i, %i : !llvm.ptr<1>, i32, i32)
          v #fa4.contiguous(%p, %i, %i : !llvm.ptr<1>, i32, i32)
          init(%o0) : !fa4.acc<128x64xf32, warps = 8> {
      ^bb0(%n: i32, %qa: !fa4.smem<128x64xbf16>, %kb: !fa4.smem<64x64xbf16>, %vb: !fa4.smem<64x64xbf16>):
        fa4.yield %o0 : !fa4.acc<128x64xf32, warps = 8>
      }
    }
    gpu.return
  }
}

// -----

gpu.module @m {
  gpu.func @qfrag(%p: !llvm.ptr<1>, %d: !llvm.ptr, %i: i32, %l: i64) kernel {
    fa4.scope "dense" {
      %qt = fa4.smem_buffer "Q" : !fa4.smem<128x64xbf16>
      %zero = arith.constant 0.0 : f32
      %o0 = fa4.splat %zero : !fa4.acc<128x64xf32, warps = 8>
      // expected-error @+1 {{Q fragments '!fa4.afrag<128x128xbf16, warps = 8>' do not match '!fa4.smem<128x64xbf16>'}}
      %r = fa4.kv_loop [%i, %i, %i, %i] stages(1)
          q %qt[%i] : !fa4.smem<128x64xbf16> #fa4.contiguous(%p, %i, %i : !llvm.ptr<1>, i32, i32)
          k #fa4.contiguous(%p, %i, %i : !llvm.ptr<1>, i32, i32)
          v #fa4.contiguous(%p, %i, %i : !llvm.ptr<1>, i32, i32)
          init(%o0) : !fa4.acc<128x64xf32, warps = 8> {
      ^bb0(%n: i32, %qa: !fa4.afrag<128x128xbf16, warps = 8>, %kb: !fa4.smem<64x64xbf16>, %vb: !fa4.smem<64x64xbf16>, %o: !fa4.acc<128x64xf32, warps = 8>):
        fa4.yield %o : !fa4.acc<128x64xf32, warps = 8>
      }
    }
    gpu.return
  }
}

// -----

gpu.module @m {
  gpu.func @yield(%p: !llvm.ptr<1>, %d: !llvm.ptr, %i: i32, %l: i64) kernel {
    fa4.scope "dense" {
      %qt = fa4.smem_buffer "Q" : !fa4.smem<128x64xbf16>
      %zero = arith.constant 0.0 : f32
      %o0 = fa4.splat %zero : !fa4.acc<128x64xf32, warps = 8>
      // expected-error @+1 {{body must yield the 1 state values}}
      %r = fa4.kv_loop [%i, %i, %i, %i] stages(1)
          q %qt[%i] : !fa4.smem<128x64xbf16> #fa4.contiguous(%p, %i, %i : !llvm.ptr<1>, i32, i32)
          k #fa4.contiguous(%p, %i, %i : !llvm.ptr<1>, i32, i32)
          v #fa4.contiguous(%p, %i, %i : !llvm.ptr<1>, i32, i32)
          init(%o0) : !fa4.acc<128x64xf32, warps = 8> {
      ^bb0(%n: i32, %qa: !fa4.smem<128x64xbf16>, %kb: !fa4.smem<64x64xbf16>, %vb: !fa4.smem<64x64xbf16>, %o: !fa4.acc<128x64xf32, warps = 8>):
        fa4.yield
      }
    }
    gpu.return
  }
}

// -----

gpu.module @m {
  gpu.func @range(%i: i32) kernel {
    // expected-error @+1 {{tile sizes must be in [1, 2^31), got rows 128 and block 0}}
    %r:4 = fa4.kv_range none rows(%i, 128) seqlen(%i, %i) block(0)
    gpu.return
  }
}

// -----

gpu.module @m {
  gpu.func @range(%i: i32) kernel {
    // expected-error @+1 {{the local kind needs window(left, right)}}
    %r:4 = fa4.kv_range local rows(%i, 128) seqlen(%i, %i) block(64)
    gpu.return
  }
}

// -----

gpu.module @m {
  gpu.func @range(%i: i32) kernel {
    // expected-error @+1 {{only the local kind takes a window}}
    %r:4 = fa4.kv_range causal window(%i, %i) rows(%i, 128) seqlen(%i, %i) block(64)
    gpu.return
  }
}

// -----

gpu.module @m {
  gpu.func @fill(%p: !llvm.ptr<1>, %i: i32) kernel {
    // expected-error @+1 {{fills bf16, f16 or f32, got 'i32'}}
    fa4.fill_nan %p[%i to %i] stride %i cols(4) as i32
    gpu.return
  }
}

// -----

// expected-error @+1 {{dtype must be bf16 or f16, got 'f32'}}
fa4.kv_append @a dtype(f32)

// -----

gpu.module @m {
  gpu.func @k(%i: i32) kernel {
    // expected-error @+1 {{keep bits for '!fa4.acc<64x64xf32, warps = 4>' take 1 i32 words per lane, not 2}}
    %bits = fa4.dropout_mask row %i col %i seed(%i, %i) stream(%i, %i) keep %i : !fa4.acc<64x64xf32, warps = 4> -> vector<2xi32>
    gpu.return
  }
}

// -----

gpu.module @m {
  gpu.func @k(%x: f32, %bits: vector<1xi32>) kernel {
    %s = fa4.splat %x : !fa4.acc<64x128xf32, warps = 4>
    // expected-error @+1 {{keep bits for '!fa4.acc<64x128xf32, warps = 4>' take 2 i32 words per lane, not 1}}
    %d = fa4.dropout %s bits %bits : !fa4.acc<64x128xf32, warps = 4>, vector<1xi32>
    gpu.return
  }
}

// -----

gpu.module @m {
  gpu.func @descending_lists(%p: !llvm.ptr<1>, %i: i32) kernel {
    fa4.scope "dense" {
      %qt = fa4.smem_buffer "Q" : !fa4.smem<128x64xbf16>
      %zero = arith.constant 0.0 : f32
      %o0 = fa4.splat %zero : !fa4.acc<128x64xf32, warps = 8>
      // expected-error @+1 {{descending is an order of the range; block lists are visited in list order}}
      %r = fa4.kv_loop [%i, %i, %i, %i] lists(%p[%i], %p[%i]) per(%i) stages(1) descending
          q %qt[%i] : !fa4.smem<128x64xbf16> #fa4.contiguous(%p, %i, %i : !llvm.ptr<1>, i32, i32)
          k #fa4.contiguous(%p, %i, %i : !llvm.ptr<1>, i32, i32)
          v #fa4.contiguous(%p, %i, %i : !llvm.ptr<1>, i32, i32)
          init(%o0) : !fa4.acc<128x64xf32, warps = 8> {
      ^bb0(%n: i32, %qa: !fa4.smem<128x64xbf16>, %kb: !fa4.smem<64x64xbf16>, %vb: !fa4.smem<64x64xbf16>, %o: !fa4.acc<128x64xf32, warps = 8>):
        fa4.yield %o : !fa4.acc<128x64xf32, warps = 8>
      }
    }
    gpu.return
  }
}

// -----

gpu.module @m {
  gpu.func @tma_lists(%p: !llvm.ptr<1>, %d: !llvm.ptr, %i: i32) kernel {
    fa4.scope "dense" {
      %qt = fa4.smem_buffer "Q" : !fa4.smem<128x64xbf16>
      %zero = arith.constant 0.0 : f32
      %o0 = fa4.splat %zero : !fa4.acc<128x64xf32, warps = 8>
      // expected-error @+1 {{block lists need the cp.async schedule (the TMA producer walks the range)}}
      %r = fa4.kv_loop [%i, %i, %i, %i] lists(%p[%i], %p[%i]) per(%i) stages(2)
          q %qt[%i] : !fa4.smem<128x64xbf16> #fa4.tma(%d, %i, %i : !llvm.ptr, i32, i32)
          k #fa4.tma(%d, %i, %i : !llvm.ptr, i32, i32)
          v #fa4.tma(%d, %i, %i : !llvm.ptr, i32, i32)
          init(%o0) : !fa4.acc<128x64xf32, warps = 8> {
      ^bb0(%n: i32, %qa: !fa4.smem<128x64xbf16>, %kb: !fa4.smem<64x64xbf16>, %vb: !fa4.smem<64x64xbf16>, %o: !fa4.acc<128x64xf32, warps = 8>):
        fa4.yield %o : !fa4.acc<128x64xf32, warps = 8>
      }
    }
    gpu.return
  }
}

// -----

// expected-error @+1 {{switchable needs two or more of window, softcap and alibi (it serves their combinations)}}
fa4.attention @k dtype(bf16) head_dim(64) head_dim_v(64) softcap switchable load_path(cp_async) stages(1)

// -----

// expected-error @+1 {{a switchable kernel takes causal as the window (-1, 0), not as causal}}
fa4.attention @k dtype(bf16) head_dim(64) head_dim_v(64) causal softcap alibi switchable load_path(cp_async) stages(1)

// -----

// expected-error @+1 {{switchable is built for the cp_async load path without sink or block_sparse}}
fa4.attention @k dtype(bf16) head_dim(64) head_dim_v(64) window alibi switchable load_path(tma) stages(2)

// -----

// expected-error @+1 {{switchable is built for the cp_async load path without sink or block_sparse}}
fa4.attention @k dtype(bf16) head_dim(64) head_dim_v(64) window softcap sink switchable load_path(cp_async) stages(1)
