"""What every benchmark workload builds its variants from: graphnet's own modes, a hand-written
`jax.jit` twin and a PyTorch eager twin of the same training step.

A twin starts from the graphnet model's initial weights (copied, never shared), trains on the
same data with the same optimizer rule, and reports its parameters in graphnet's
`named_parameters()` order (PyTorch's order for the same module tree), so `Workload.params`
of any two variants can be compared array by array after N steps.

The jax optimizer rules below are PyTorch's update formulas written with jnp: plain or
momentum SGD (dampening 0, no nesterov) and Adam / AdamW (no amsgrad)."""

from __future__ import annotations

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

GRAPHNET_MODES = ("dynamic", "static", "plan")


# ---- graphnet variants ------------------------------------------------------------------
def graphnet_variants(build: Callable, modes=GRAPHNET_MODES):
    """Build one training step per mode in `modes` ("dynamic" is eager, the others are
    `graphnet.compile` modes). `build()` returns a fresh (model, optimizer, x, y) from the same
    seed each time, so every mode starts from the same weights. Returns (variants, blockers,
    params, compiled handles, the last model built: untrained, for the twins to copy)."""
    from .workloads import sgd_train_step

    variants, blockers, params, handles = {}, {}, {}, {}
    for name in modes:
        model, opt, x, y = build()
        step, blocker, handle = sgd_train_step(model, opt, x, y,
                                               None if name == "dynamic" else name)
        variants[name], blockers[name], params[name] = step, blocker, numpy_params(blocker)
        if handle is not None:
            handles[name] = handle
    return variants, blockers, params, handles, model


def numpy_params(blocker: Callable) -> Callable:
    """Copies of the arrays a graphnet blocker returns (its model's parameters, in order).
    NOTE: copies, because a static step donates its parameter buffers to the next call."""
    return lambda: [np.array(a, copy=True) for a in blocker()]


# ---- jax optimizer rules, as in PyTorch -------------------------------------------------
class Rule(NamedTuple):
    init: Callable    # params -> optimizer state
    update: Callable  # (params, grads, state) -> (params, state)


def sgd(lr: float, momentum: float = 0.0) -> Rule:
    """torch.optim.SGD: buf = momentum * buf + g (buf = g on the first step, the same as
    starting from zeros), p -= lr * buf."""
    def update(params, grads, bufs):
        bufs = jax.tree_util.tree_map(lambda b, g: momentum * b + g, bufs, grads)
        return jax.tree_util.tree_map(lambda p, b: p - lr * b, params, bufs), bufs

    return Rule(lambda params: jax.tree_util.tree_map(jnp.zeros_like, params), update)


def adam(lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
         weight_decay: float = 0.0, decoupled: bool = False) -> Rule:
    """torch.optim.Adam, or AdamW when `decoupled` (p *= 1 - lr * weight_decay first)."""
    beta1, beta2 = betas

    def init(params):   # NOTE: two trees, not one twice: the step donates both buffers
        return (jnp.zeros((), jnp.float32), jax.tree_util.tree_map(jnp.zeros_like, params),
                jax.tree_util.tree_map(jnp.zeros_like, params))

    def update(params, grads, state):
        step, exp_avg, exp_avg_sq = state
        step = step + 1
        if weight_decay and decoupled:
            params = jax.tree_util.tree_map(lambda p: p * (1 - lr * weight_decay), params)
        elif weight_decay:
            grads = jax.tree_util.tree_map(lambda g, p: g + weight_decay * p, grads, params)
        exp_avg = jax.tree_util.tree_map(lambda m, g: m + (1 - beta1) * (g - m), exp_avg, grads)
        exp_avg_sq = jax.tree_util.tree_map(lambda v, g: beta2 * v + (1 - beta2) * g * g,
                                            exp_avg_sq, grads)
        step_size = lr / (1 - beta1 ** step)
        correction2_sqrt = jnp.sqrt(1 - beta2 ** step)

        def move(p, m, v):
            return p - step_size * m / (jnp.sqrt(v) / correction2_sqrt + eps)

        params = jax.tree_util.tree_map(move, params, exp_avg, exp_avg_sq)
        return params, (step, exp_avg, exp_avg_sq)

    return Rule(init, update)


def cross_entropy(logits, y):
    """Mean cross-entropy of integer targets, as F.cross_entropy."""
    logp = jax.nn.log_softmax(logits, axis=-1)
    return -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=-1))


def make_workload(name: str, description: str, build: Callable, data: tuple,
                  jax_loss: Callable, jax_rule: Rule, torch_model: Callable | None = None,
                  torch_optimizer: tuple = ("SGD", {}), plan: bool = True,
                  torch_compile: bool = False):
    """A `Workload`: graphnet's modes (`graphnet_variants`; "plan" unless `plan` is False),
    then the twins of the untrained graphnet model, all training on `data` = (x, y):
    "jax" (`jax_twin(jax_loss, model, jax_rule, x, y)`) and, when `torch_model` (a zero-
    argument callable returning a torch module with graphnet's parameter names) is given and
    torch is installed, "torch" and, if `torch_compile`, "torch.compile", each with the
    optimizer `torch_optimizer` = (torch.optim class name, keyword arguments)."""
    from .workloads import Workload

    modes = GRAPHNET_MODES if plan else ("dynamic", "static")
    variants, blockers, params, handles, model = graphnet_variants(build, modes)
    twins = {"jax": lambda: jax_twin(jax_loss, model, jax_rule, *data)}
    if torch_model is not None and has_torch():
        twins["torch"] = lambda: torch_twin(model, torch_model(), torch_optimizer, *data)
        if torch_compile:
            twins["torch.compile"] = lambda: torch_twin(model, torch_model(), torch_optimizer,
                                                        *data, compiled=True)
    for twin, make in twins.items():
        variants[twin], blockers[twin], params[twin] = make()
    ratios = [("plan / static (what whole-program XLA fusion buys)", "plan", "static")] \
        if plan else []
    return Workload(name, description, variants, blockers, ratios, handles, params,
                    [name for name, _ in model.named_parameters()])


# ---- the twins ----------------------------------------------------------------------------
def jax_twin(loss_fn: Callable, model, rule: Rule, x: np.ndarray, y: np.ndarray,
             buffers: bool = False):
    """(step, blocker, params) for a hand-written jax.jit training step: `loss_fn(params, x,
    y)` takes a dict of arrays named as `model.named_parameters()`, starting from copies of
    the model's current weights. With `buffers` (BatchNorm's running statistics), it is
    `loss_fn(params, buffers, x, y) -> (loss, new buffers)`, the buffers a dict named as
    `model.named_buffers()`. The step donates its parameter, buffer and optimizer-state
    arrays, as graphnet's static mode does."""
    names = [name for name, _ in model.named_parameters()]
    box = {"params": {name: jnp.array(p._value) for name, p in model.named_parameters()},
           "buffers": {name: _jax_buffer(b._value) for name, b in model.named_buffers()}
           if buffers else {}}
    box["state"] = rule.init(box["params"])
    x, y = jnp.asarray(x), jnp.asarray(y)

    def train_step(params, state, held, x, y):
        # NOTE: jax hands dicts back with sorted keys; loss_fn sees named_parameters() order
        def loss(params):
            ordered = {name: params[name] for name in names}
            return loss_fn(ordered, held, x, y) if buffers else (loss_fn(ordered, x, y), held)

        (loss, held), grads = jax.value_and_grad(loss, has_aux=True)(params)
        params, state = rule.update(params, grads, state)
        return loss, params, state, held

    train_step = jax.jit(train_step, donate_argnums=(0, 1, 2))

    def run():
        loss, box["params"], box["state"], box["buffers"] = train_step(
            box["params"], box["state"], box["buffers"], x, y)
        return loss

    # what runtime/first_run.py splits the first call of: the jitted step and its arguments
    run.jitted = train_step
    run.arguments = lambda: (box["params"], box["state"], box["buffers"], x, y)

    return (run, lambda: list(box["params"].values()),
            lambda: [np.array(box["params"][name]) for name in names])


def _jax_buffer(value):
    """A copy of a buffer as JAX holds it by default: an integer count (BatchNorm's
    num_batches_tracked, int64 in graphnet and torch) as int32."""
    array = np.asarray(value)
    return jnp.asarray(array.astype(np.int32) if array.dtype.kind in "iu" else array)


def torch_copy(gn_model, torch_model):
    """Load graphnet's weights into a torch model with the same names (strict)."""
    import torch

    torch_model.load_state_dict({k: torch.from_numpy(np.array(v._value))
                                 for k, v in gn_model.state_dict().items()}, strict=True)
    return torch_model


def torch_twin(gn_model, torch_model, optimizer: tuple, x: np.ndarray, y: np.ndarray,
               compiled: bool = False):
    """(step, blocker, params) for PyTorch eager: the usual zero_grad, cross-entropy, backward,
    opt.step on `torch_model` loaded with `gn_model`'s weights; `optimizer` is (torch.optim
    class name, keyword arguments). `compiled` runs the forward through `torch.compile`
    (backward through its AOTAutograd graph; the optimizer stays eager)."""
    import torch

    device = torch_device()
    torch_copy(gn_model, torch_model)
    torch_model.to(device)
    opt = getattr(torch.optim, optimizer[0])(torch_model.parameters(), **optimizer[1])
    forward = torch.compile(torch_model) if compiled else torch_model
    x, y = torch.from_numpy(x).to(device), torch.from_numpy(y).to(device)
    named = dict(torch_model.named_parameters())
    names = [name for name, _ in gn_model.named_parameters()]

    def run():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(forward(x), y)
        loss.backward()
        opt.step()
        return loss.detach()

    def block():   # CUDA runs ahead of Python: wait for the update before a timer stops
        if device == "cuda":
            torch.cuda.synchronize()
        return []

    return run, block, lambda: [named[name].detach().cpu().numpy().copy() for name in names]


def torch_device() -> str:
    """Where the PyTorch twins run: GRAPHNET_TORCH_DEVICE, else CUDA when torch has it."""
    import os

    import torch

    return os.environ.get("GRAPHNET_TORCH_DEVICE") or (
        "cuda" if torch.cuda.is_available() else "cpu")


def has_torch() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True
