"""The PyTorch names graphnet refuses on purpose, each with its reason and what to use
instead: read by the coverage report (runtime/coverage.py) and by the AttributeError a
missing name raises (graphnet/_errors.py `missing_attribute`)."""

from __future__ import annotations

_CUDA = ("CUDA/accelerator memory, streams and devices do not exist on the JAX CPU/XLA path",
         "`.to(device)` (accepted; XLA places arrays)")
_MASKED = ("masked tensors are a prototype tensor subclass",
           "the functions of graphnet.masked with mask=, or `where` / `masked_fill`")
_SPARSE = ("sparse layouts are not JAX arrays (jax.experimental.sparse is a separate type)",
           "dense tensors")
_QUANT = ("PyTorch's quantized tensor internals have no JAX counterpart", "float16/bfloat16 casts")
_STORAGE = ("storages, pointers and shared memory: JAX arrays are immutable buffers owned by XLA",
            "`.clone()`, `.numpy()`")
_MKLDNN = ("oneDNN layout helpers; XLA chooses layouts itself", "plain tensors")
_SCRIPT = ("TorchScript plumbing, not a tensor function", "the function it dispatches to, or "
           "graphnet.compile")
_DATAPIPE = ("DataPipes are PyTorch's deprecated torchdata API", "Dataset and DataLoader")
_PARALLEL = ("multi-process/multi-device wrappers; graphnet runs one process on one device",
             "a single module")

_COMPLEX = ("graphnet has no complex dtypes (a TypeError says so)",
            "real and imaginary parts as two real tensors, or a trailing dim of size 2")
_ATEN = ("ATen's internal kernel entry points, not a user API",
         "the torch.nn.functional / torch.nn form")
_AUTOCAST = ("autocast's per-device variants for devices graphnet does not run on (ipu, xla, "
             "hpu ...) and the deprecated per-device spellings",
             "`graphnet.autocast('cpu', ...)` and `get_autocast_dtype('cpu')`")
_SYMBOLIC = ("symbolic-shape helpers of torch.compile's tracer", "graphnet.compile")
_FP8 = ("fp8/grouped GPU matmul kernels", "`matmul` on float16/bfloat16 tensors")
_OVERRIDES = ("the __torch_function__ override protocol, which graphnet tensors do not use",
              "plain functions")
_LEGACY_RNN = ("ATen's flat-weight RNN kernels", "nn.LSTM / nn.GRU / nn.RNN and their cells")
_CAPTURE = ("PyTorch's own graph capture and operator registry (FX graphs, ExportedProgram, "
            "torch.library/torch.ops)", "graphnet.compile, its graph dumps and "
            "autograd.Function")
_PROCESSES = ("PyTorch's process spawning and shared-memory tensors",
              "graphnet.distributed (jax.distributed) for several processes")
_NO_RECOMPUTE = ("graphnet does not recompute checkpointed segments (XLA rematerialises)",
                 "graphnet.utils.checkpoint.checkpoint")
_SAVED = ("graphnet's tape saves immutable arrays; a write after the forward is refused as in "
          "PyTorch's default mode", "clone() before writing")
_EDGES = ("gradient edges as autograd.grad inputs", "the tensor itself as autograd.grad's input")
_CACHE = ("graphnet's compiled programs are cached on disk by themselves",
          "GRAPHNET_COMPILE_CACHE=dir (see README)")
_SPARSE_GRAD = ("graphnet has no sparse gradients (every gradient is dense)",
                "optim.Adam on the dense gradients")

# Names that cannot make sense on JAX. Keys are fnmatch patterns on the qualified torch name;
# values are (reason, alternative). The first matching pattern wins; an implemented name is
# reported as implemented even if a pattern matches it.
REFUSED: dict[str, tuple[str, str]] = {
    "torch.Tensor.record_stream": _CUDA, "torch.Tensor.xpu": _CUDA, "torch.Tensor.ipu": _CUDA,
    "torch.Tensor.mtia": _CUDA,
    "torch.Tensor.is_coalesced": _SPARSE, "torch.Tensor.coalesce": _SPARSE,
    "torch.Tensor.*sparse*": _SPARSE, "torch.sparse_*": _SPARSE, "torch.resize_as_sparse_": _SPARSE,
    "torch.Tensor.*csr*": _SPARSE,
    "torch.Tensor.*csc*": _SPARSE, "torch.Tensor.*bsr*": _SPARSE, "torch.Tensor.*bsc*": _SPARSE,
    "torch.Tensor.crow_indices": _SPARSE, "torch.Tensor.col_indices": _SPARSE,
    "torch.Tensor.ccol_indices": _SPARSE, "torch.Tensor.row_indices": _SPARSE,
    "torch.Tensor.indices": _SPARSE, "torch.Tensor.values": _SPARSE,
    "torch.*quantize*": _QUANT, "torch.Tensor.q_*": _QUANT, "torch.q_*": _QUANT,
    "torch.Tensor.int_repr": _QUANT, "torch.int_repr": _QUANT, "torch.Tensor.qscheme": _QUANT,
    "torch.Tensor.*storage*": _STORAGE,
    "torch.Tensor.set_": _STORAGE, "torch.Tensor.storage_offset": _STORAGE,
    "torch.*mkldnn*": _MKLDNN, "torch.Tensor.*mkldnn*": _MKLDNN,
    "torch.nn.functional.boolean_dispatch": _SCRIPT,
    "torch.nn.functional.assert_int_or_pair": _SCRIPT,
    "torch.utils.data.*DataPipe*": _DATAPIPE, "torch.utils.data.DataChunk": _DATAPIPE,
    "torch.utils.data.functional_datapipe": _DATAPIPE,
    "torch.utils.data.guaranteed_datapipes_determinism": _DATAPIPE,
    "torch.utils.data.non_deterministic": _DATAPIPE,
    "torch.utils.data.runtime_validation*": _DATAPIPE,
    "torch.utils.data.argument_validation": _DATAPIPE,
    # issue 10: what stays refused after the families landed
    "torch.complex": _COMPLEX, "torch.polar": _COMPLEX, "torch.view_as_complex*": _COMPLEX,
    "torch.Tensor.cfloat": _COMPLEX, "torch.Tensor.cdouble": _COMPLEX,
    "torch.Tensor.chalf": _COMPLEX, "torch.stft": _COMPLEX, "torch.istft": _COMPLEX,
    "torch.Tensor.stft": _COMPLEX, "torch.Tensor.istft": _COMPLEX,
    "torch.cfloat": _COMPLEX, "torch.cdouble": _COMPLEX, "torch.chalf": _COMPLEX,
    "torch.complex32": _COMPLEX, "torch.complex64": _COMPLEX, "torch.complex128": _COMPLEX,
    "torch.fft.*": _COMPLEX,
    # torch's submodules graphnet does not provide (graphnet.sparse was a bare AttributeError)
    "torch.sparse": _SPARSE, "torch.quantization": _QUANT, "torch.ao": _QUANT,
    "torch.fx": _CAPTURE, "torch.export": _CAPTURE, "torch.library": _CAPTURE,
    "torch.ops": _CAPTURE, "torch.classes": _CAPTURE, "torch.cpp": _CAPTURE,
    "torch.package": _SCRIPT, "torch.futures": _SCRIPT,
    "torch.multiprocessing": _PROCESSES, "torch.mps": _CUDA, "torch.xpu": _CUDA,
    "torch.mtia": _CUDA, "torch.overrides": _OVERRIDES, "torch.storage": _STORAGE,
    "torch.masked.MaskedTensor": _MASKED, "torch.masked.masked_tensor": _MASKED,
    "torch.masked.as_masked_tensor": _MASKED, "torch.masked.is_masked_tensor": _MASKED,
    "torch.masked.maskedtensor": _MASKED,
    "torch.nested": ("nested (jagged) tensors have ragged dims; XLA programs have static shapes",
                     "padding (nn.utils.rnn.pad_sequence) and a mask"),
    "torch.hub": ("torch.hub downloads PyTorch code and checkpoints",
                  "graphnet.load / load_state_dict of a file you have"),
    "torch.signal": ("torch.signal.windows is not provided",
                     "graphnet.hann_window, hamming_window, blackman_window, kaiser_window"),
    "torch.quasirandom": ("SobolEngine's quasi-random sequences are not provided",
                          "graphnet.rand"),
    "torch.monitor": ("event counters of PyTorch's C++ runtime", "Python's logging"),
    "torch.cudnn_*": _ATEN, "torch.miopen_*": _ATEN, "torch.fbgemm_*": _ATEN,
    "torch.native_*": _ATEN, "torch.batch_norm_*": _ATEN, "torch.convolution": _ATEN,
    "torch.grid_sampler*": _ATEN, "torch.affine_grid_generator": _ATEN,
    "torch.cudnn_affine_grid_generator": _ATEN, "torch.embedding_renorm_": _ATEN,
    "torch.norm_except_dim": _ATEN, "torch.conv_tbc": _ATEN,
    "torch.nn.functional.conv_tbc": _ATEN, "torch.segment_reduce": _ATEN,
    "torch.*autocast*": _AUTOCAST, "torch.sym_*": _SYMBOLIC,
    "torch.nn.functional.*scaled_mm": _FP8, "torch.nn.functional.*grouped_mm": _FP8,
    "torch.nn.functional.*torch_function*": _OVERRIDES,
    "torch.lstm*": _LEGACY_RNN, "torch.gru*": _LEGACY_RNN, "torch.rnn_*": _LEGACY_RNN,
    "torch.optim.SparseAdam": _SPARSE_GRAD,
    "torch.*_indices_copy": _SPARSE, "torch.indices_copy": _SPARSE,
    "torch.values_copy": _SPARSE, "torch.*smm": _SPARSE, "torch.hspmm": _SPARSE,
    "torch.spmm": _SPARSE, "torch.sspaddmm": _SPARSE, "torch.saddmm": _SPARSE,
    "torch.Tensor.*smm": _SPARSE,
    "torch.Tensor.sspaddmm": _SPARSE, "torch.Tensor.dense_dim": _SPARSE,
    "torch.Tensor.to_padded_tensor": _SPARSE,
    "torch.frombuffer": _STORAGE, "torch.from_file": _STORAGE, "torch.is_storage": _STORAGE,
    "torch.Tensor.const_data_ptr": _STORAGE, "torch.Tensor.module_load": _STORAGE,
    "torch.Tensor.as_subclass": _STORAGE,
    "torch.import_ir_module*": _SCRIPT, "torch.parse_*": _SCRIPT,
    "torch.merge_type_from_type_comment": _SCRIPT, "torch.unify_type_list": _SCRIPT,
    "torch.fork": _SCRIPT, "torch.wait": _SCRIPT, "torch.get_file_path": _SCRIPT,
    "torch.classproperty": _SCRIPT, "torch.compiled_with_cxx11_abi": _SCRIPT,
    "torch.prepare_multiprocessing_environment": _PARALLEL, "torch.is_distributed": _PARALLEL,
    "torch.Tensor.is_distributed": _PARALLEL,
    "torch.is_vulkan_available": _CUDA, "torch.get_device_module": _CUDA,
    "torch.profiler_allow_cudagraph_cupti_lazy_reinit_cuda12": _CUDA,
    "torch.choose_qparams_optimized": _QUANT, "torch.fused_moving_avg_obs_fake_quant": _QUANT,
    "torch.utils.checkpoint.GraphExecGroup": _NO_RECOMPUTE,
    "torch.autograd.graph.allow_mutation_on_saved_tensors": _SAVED,
    "torch.autograd.graph.GradientEdge": _EDGES, "torch.autograd.graph.get_gradient_edge": _EDGES,
    "torch.autograd.graph.region_activation_memory_budget": _NO_RECOMPUTE,
    "torch.autograd.graph.set_*stream*": _CUDA,
    "torch.compiler.*cache_artifacts": _CACHE, "torch.compiler.load_compiled_function": _CACHE,
    "torch.compiler.set_enable_guard_collectives": _PARALLEL,
    "torch.compiler.wrap_numpy": ("NumPy code runs on the host; a compiled program is one XLA "
                                  "computation", "graphnet ops (NumPy's names mostly match)"),
    "torch.onnx": ("ONNX export walks PyTorch's TorchScript/FX graphs, which graphnet does not "
                   "make", "graphnet.save(model.state_dict(), path) for the weights, and "
                   "hlo_dump(compiled) (or `graphnet dump hlo`) for the program as StableHLO"),
    "torch.linalg.ldl_*": ("LAPACK's Bunch-Kaufman LDL^T (sytrf) packed factor and pivots, "
                           "which JAX does not compute", "linalg.cholesky / cholesky_solve for "
                           "definite matrices, linalg.solve or linalg.eigh otherwise"),
    "torch.func.debug_unwrap": ("functorch's wrapper tensors, which graphnet's transforms do "
                                "not make", "the tensor itself"),
    "torch.func.rearrange": ("functorch's first-class-dimension einops port",
                             "reshape, permute and einsum"),
}
