"""`graphnet.backends`: the switches scripts set for PyTorch's kernel libraries
(`torch.backends.cudnn.benchmark = True`, `...cuda.matmul.allow_tf32`, `mps.is_available()`).

XLA chooses its own kernels, so the cudnn flags are recorded and read back without effect;
`cuda.matmul.allow_tf32 = True` maps onto `set_float32_matmul_precision("high")`, the one
switch here that changes numbers (on GPUs), as in PyTorch. The attention switches,
`mha.set_fastpath_enabled` and `cuda.enable_*_sdp`, decide which of PyTorch's paths graphnet
reproduces and where it refuses (backends/_attention_flags.py)."""

from __future__ import annotations

import contextlib
import sys
import types

from . import _attention_flags


class _CudnnFlags(types.ModuleType):
    benchmark = False
    deterministic = False
    enabled = True
    allow_tf32 = True
    benchmark_limit = 10

    @staticmethod
    def is_available() -> bool:
        from .. import cuda

        return cuda.is_available()

    @staticmethod
    def version():
        return None

    @staticmethod
    @contextlib.contextmanager
    def flags(enabled=False, benchmark=False, benchmark_limit=10, deterministic=False,
              allow_tf32=True, fp32_precision="none", depthwise_kernel="auto"):
        """`with torch.backends.cudnn.flags(...)`: the flags set for the block, put back
        after (recorded only, as the attributes are)."""
        names = ("enabled", "benchmark", "benchmark_limit", "deterministic", "allow_tf32")
        before = {name: getattr(cudnn, name) for name in names}
        for name, value in zip(names, (enabled, benchmark, benchmark_limit, deterministic,
                                       allow_tf32)):
            setattr(cudnn, name, value)
        try:
            yield
        finally:
            for name, value in before.items():
                setattr(cudnn, name, value)


class _Matmul:
    @property
    def allow_tf32(self) -> bool:
        from .._settings import get_float32_matmul_precision

        return get_float32_matmul_precision() != "highest"

    @allow_tf32.setter
    def allow_tf32(self, value: bool) -> None:
        from .._settings import set_float32_matmul_precision

        set_float32_matmul_precision("high" if value else "highest")

    allow_fp16_reduced_precision_reduction = True
    allow_bf16_reduced_precision_reduction = True


cudnn = _CudnnFlags("graphnet.backends.cudnn")
cuda = types.ModuleType("graphnet.backends.cuda")
cuda.matmul = _Matmul()
cuda.is_built = lambda: cudnn.is_available()
# `preferred_linalg_library()`: XLA picks its own solvers; the choice is recorded, not used
cuda.preferred_linalg_library = lambda backend=None: "default" if backend is None else backend
_attention_flags.add_sdp_switches(cuda)
mha = types.ModuleType("graphnet.backends.mha")
mha.get_fastpath_enabled = _attention_flags.get_fastpath_enabled
mha.set_fastpath_enabled = _attention_flags.set_fastpath_enabled
mps = types.ModuleType("graphnet.backends.mps")
mps.is_available = lambda: False
mps.is_built = lambda: False
mkldnn = types.ModuleType("graphnet.backends.mkldnn")
mkldnn.is_available = lambda: False
mkldnn.enabled = False
openmp = types.ModuleType("graphnet.backends.openmp")
openmp.is_available = lambda: False


class _OptEinsum(types.ModuleType):
    """`torch.backends.opt_einsum`: JAX's einsum always orders its contractions with
    opt_einsum (a JAX dependency), so it is available; `enabled` and `strategy` are
    recorded (and checked as PyTorch checks them) without changing that order."""

    enabled = True
    strategy = "auto"

    @staticmethod
    def is_available() -> bool:
        return True

    @staticmethod
    def get_opt_einsum():
        import opt_einsum

        return opt_einsum

    def set_flags(self, _enabled=None, _strategy=None):
        before = (self.enabled, self.strategy)
        if _enabled is not None:
            self.enabled = bool(_enabled)
        if _strategy is not None:
            if _strategy not in ("auto", "greedy", "optimal"):
                raise ValueError(f"`strategy` must be one of the following: [auto, greedy, "
                                 f"optimal] but is {_strategy}")
            self.strategy = _strategy
        return before

    @contextlib.contextmanager
    def flags(self, enabled=None, strategy=None):
        before = self.set_flags(enabled, strategy)
        try:
            yield
        finally:
            self.enabled, self.strategy = before


opt_einsum = _OptEinsum("graphnet.backends.opt_einsum")



def autotune(enabled: bool | None = True) -> None:
    """Turn the measured per-shape choice of convolution lowerings on (True) or off (False;
    then a fixed rule applies), or hand the decision back to env GRAPHNET_AUTOTUNE (None).
    Choices are cached in GRAPHNET_AUTOTUNE_CACHE (default ~/.cache/graphnet/autotune.json).
    It applies to convolutions traced afterwards: programs already compiled, and eager
    kernels already built for a shape, keep the lowering they were traced with.

    >>> graphnet.backends.autotune(False)   # deterministic lowering, nothing timed
    """
    from .._ops import conv_autotune

    conv_autotune.set_enabled(enabled)


def cpu_library_fusion(option_set: str | bool | None) -> None:
    """Which operations XLA-CPU hands to its YNNPACK library, for programs and kernels
    compiled afterwards (it changes nothing on GPU): an option-set name, "checked"
    (graphnet's default, True means this: matmuls and reductions in the library, each static
    program's compiled form read for the library fusions known to compute wrong values and
    compiled again with "library_dots" where it has one; eager kernels take
    "library_dots"), "library_dots" (matmuls one by one), "no_library_fusion" (False means
    this), or, for measuring, "xla_default" (XLA's own) and "dot_reduce_fusion" (unchecked:
    its reduce fusion miscompiles a reduction of a batched matmul with a broadcast operand,
    graphnet/_xla.py); None hands the decision back to env GRAPHNET_XLA_CPU_OPTIONS.

    >>> graphnet.backends.cpu_library_fusion("no_library_fusion")
    """
    from .. import _xla

    if option_set is True:
        option_set = "checked"
    elif option_set is False:
        option_set = "no_library_fusion"
    _xla.choose(option_set)


def autotune_enabled() -> bool:
    from .._ops import conv_autotune

    return conv_autotune.enabled()


def conv_choices() -> list:
    """One dict per convolution traced in this process: op, input/weight shapes, options,
    dtype, backend, the `choice` of lowering, the measured `times_s` per candidate and the
    `source` ("measured", "cache" or "rule" when autotuning is off)."""
    from .._ops import conv_autotune

    return conv_autotune.conv_choices()


_MODULES = ["cudnn", "cuda", "mha", "mps", "mkldnn", "openmp", "opt_einsum"]
__all__ = _MODULES + ["autotune", "autotune_enabled", "conv_choices", "cpu_library_fusion"]

for _name in _MODULES:   # `import graphnet.backends.cudnn as cudnn` works, as with torch
    sys.modules[f"{__name__}.{_name}"] = globals()[_name]
