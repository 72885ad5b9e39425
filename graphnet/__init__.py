"""graphnet: PyTorch-style model code, run eagerly (dynamic graph) or traced and compiled to
XLA (static graph). `import graphnet as torch` is the intended way in.

>>> import graphnet as torch
>>> from graphnet import nn
>>> model = nn.Sequential(nn.Linear(4, 3), nn.ReLU())
>>> fast = torch.compile(model)          # traced on first call, then one jax.jit program
"""

# NOTE: importing graphnet changes no JAX setting but the persistent compile cache's
# (_compile_cache.py). PyTorch's int64 and float64 need JAX's 64-bit types, which graphnet
# turns on only around its own work, per thread (_x64.py).

from . import _methods  # noqa: E402,F401  (attaches Tensor methods)
from ._autograd import enable_grad, is_grad_enabled, no_grad, set_grad_enabled  # noqa: E402
from ._dtype import (  # noqa: E402
    bool_ as bool, double, dtype, float, float16, float32, float64, half, int, int8, int16,
    int32, int64, long, short, uint8, uint16, uint32, uint64,
)
from ._errors import (  # noqa: E402
    DimensionError, DtypeError, GraphnetError, ShapeError, TraceError)
from ._factories import (  # noqa: E402
    arange, as_tensor, empty, empty_like, eye, from_numpy, full, full_like, is_tensor,
    linspace, logspace, normal, ones, ones_like, rand, rand_like, randint, randint_like, randn,
    randn_like, randperm, range, scalar_tensor, tensor, tracing, zeros, zeros_like,
)
from ._math import *  # noqa: E402,F401,F403
from ._math import abs, all, any, max, min, pow, sum  # noqa: E402,F401  (shadow builtins on purpose)
from ._random import (  # noqa: E402
    Generator, default_generator, get_rng_state, initial_seed, manual_seed, seed, set_rng_state,
)
from ._tensor import Size, Tensor  # noqa: E402
from ._control import cond, while_loop  # noqa: E402
from ._sorting import *  # noqa: E402,F401,F403  (sort, topk, kthvalue, searchsorted ...)
from ._scatter import *  # noqa: E402,F401,F403  (index_add, scatter_add ... and their methods)
from ._gradient import gradient  # noqa: E402  (torch.gradient)
from ._index_reduce import *  # noqa: E402,F401,F403  (index_reduce and its methods)
from ._math_extra import *  # noqa: E402,F401,F403  (more elementwise math and reductions)
from ._shape_extra import *  # noqa: E402,F401,F403  (more shape and contraction functions)
from ._select import *  # noqa: E402,F401,F403  (nonzero, unique, masked_select ...)
from ._device import device, get_default_device, set_default_device  # noqa: E402
from ._sampling import *  # noqa: E402,F401,F403  (bernoulli, multinomial, poisson)
from ._tensor_extras import *  # noqa: E402,F401,F403  (Tensor.new, asarray, from_dlpack ...)
from . import _placement  # noqa: E402,F401  (Tensor.device, .to(device), .cuda(), .cpu())
from ._memory_format import *  # noqa: E402,F401,F403  (channels_last, memory_format= on clone, to, *_like)
from math import e, inf, nan, pi  # noqa: E402,F401  (torch.e, torch.inf ... are math's floats)
newaxis = None   # torch.newaxis, as NumPy's
from ._storage_facts import (  # noqa: E402,F401  (Tensor.data_ptr, nbytes ...)
    layout, sparse_bsc, sparse_bsr, sparse_coo, sparse_csc, sparse_csr, strided)
from ._legacy_types import *  # noqa: E402,F401,F403  (FloatTensor, LongTensor ...)
from ._facade import compile, trace_graph  # noqa: E402
from . import nn, optim  # noqa: E402
from . import utils  # noqa: E402
from . import func  # noqa: E402  (torch.func: grad, vjp, jacrev, vmap ...)
from .func import vmap  # noqa: E402  (torch.vmap is torch.func.vmap)
from ._linalg_lu import lu_unpack, torch_lu as lu, torch_lu_solve as lu_solve  # noqa: E402
from . import accelerator, amp, autograd, backends, distributed, distributions, fft, linalg, special, testing  # noqa: E402,E501
from . import masked  # noqa: E402  (torch.masked's functions with mask=)
from . import profiler  # noqa: E402  (record_function, schedule; profile refused)
from .amp import autocast  # noqa: E402
from .amp._autocast_mode import (  # noqa: E402  (torch's autocast state functions)
    autocast_decrement_nesting, autocast_increment_nesting, clear_autocast_cache,
    get_autocast_dtype, is_autocast_cache_enabled, is_autocast_enabled,
    set_autocast_cache_enabled, set_autocast_dtype, set_autocast_enabled,
)
from ._settings import *  # noqa: E402,F401,F403  (threads, matmul precision, finfo ...)
from ._functional_top import *  # noqa: E402,F401,F403  (torch.conv2d, torch.layer_norm ...)
from ._distance_top import *  # noqa: E402,F401,F403  (cdist, dist, cosine_similarity, torch.*_loss ...)
from ._fake_quant import *  # noqa: E402,F401,F403  (fake_quantize_per_tensor_affine ...)
from . import cuda  # noqa: E402  (torch.cuda's questions, answered from JAX)
from ._serialization import CheckpointError, load, save  # noqa: E402
from ._dispatch import (  # noqa: E402  (the eager path's bounded kernel cache)
    clear_kernel_cache, kernel_cache_info, set_kernel_cache_size,
)
from ._memory import MemoryTracker, live_bytes, track_memory  # noqa: E402  (eager peak memory)
from ._compile_cache import compile_cache_info, install_default, set_compile_cache  # noqa: E402
install_default()   # JAX's persistent compile cache, on unless the user chose otherwise
del install_default

try:
    from ._dtype import bfloat16  # noqa: F401
except ImportError:  # pragma: no cover
    pass

# NumPy's keyword names (`x.sum(axis=0, keepdims=True)`) for every public function and method
# with a `dim`/`keepdim` parameter, and NumPy array operands of the operators, as torch takes
# them: last, once every namespace is bound (graphnet/_numpy_compat.py)
from ._numpy_compat import install as _install_numpy_names  # noqa: E402
_install_numpy_names()
del _install_numpy_names
from ._out_argument import install as _install_out  # noqa: E402  (PyTorch's `out=`)
_install_out()
del _install_out
from ._foreach import functions as _foreach_functions  # noqa: E402  (torch._foreach_*)
globals().update(_foreach_functions())
del _foreach_functions

from . import cpu, random, serialization, version  # noqa: E402  (torch.cpu, torch.random ...)
from .amp import GradScaler  # noqa: E402  (torch.GradScaler is torch.amp's)
from .cpu import (  # noqa: E402  (torch.OutOfMemoryError, the deprecated cpu autocast spellings)
    OutOfMemoryError, get_autocast_cpu_dtype, is_autocast_cpu_enabled, set_autocast_cpu_dtype,
    set_autocast_cpu_enabled,
)
from .version import __version__  # noqa: E402,F401
from . import _tensor_reversed, jit  # noqa: E402,F401  (reversed(t), torch.jit's names)
from ._binomial import binomial  # noqa: E402  (torch.binomial)
from ._lowrank import pca_lowrank, svd_lowrank  # noqa: E402  (randomized SVD and PCA)


def _assert(condition, message):
    """`torch._assert` (timm's PatchEmbed checks image sizes with it): Python's assert as a
    function. A traced tensor condition asks bool() of it, which static mode refuses."""
    if not condition:
        raise AssertionError(message)


def __getattr__(name: str):
    """A missing name: torch's AttributeError, with the reason and the alternative when the
    name is refused on purpose (runtime/coverage.py `REFUSED`), e.g. `graphnet.frombuffer`."""
    if name in ("compiler", "_dynamo"):   # torch.compiler's names sit on graphnet's
        import importlib                  # compiler package

        return importlib.import_module(f"graphnet.{name}")
    from ._errors import missing_attribute

    raise missing_attribute("graphnet", "torch", name)
