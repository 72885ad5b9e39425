"""`graphnet.version`, as `torch.version`: the version fields a training script reads
(`torch.version.cuda is None` to ask for a CPU build, `torch.version.__version__` to log).

graphnet runs on JAX/XLA and is built against no CUDA, ROCm/HIP or XPU toolkit, so those
fields are None, as in a CPU-only torch."""

__all__ = ["__version__", "cuda", "debug", "git_version", "hip", "rocm", "xpu"]

__version__ = "0.1.0"
# NOTE: torch writes the commit into version.py at build time; graphnet runs from source
# and is not built, so it says "Unknown", as torch's generator does where git is missing
git_version = "Unknown"
debug = False
cuda = None
hip = None
rocm = None
xpu = None
