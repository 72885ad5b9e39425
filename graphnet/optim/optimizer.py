"""`graphnet.optim.optimizer`, as `torch.optim.optimizer`: the Optimizer base class, the
`required` marker and the global step hooks."""

from ._hooks import register_optimizer_step_post_hook, register_optimizer_step_pre_hook
from ._optimizer import Optimizer, required

__all__ = ["Optimizer", "register_optimizer_step_post_hook",
           "register_optimizer_step_pre_hook", "required"]
