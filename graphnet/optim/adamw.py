"""`graphnet.optim.adamw`, as `torch.optim.adamw`: where code imports AdamW from."""

from .adam import AdamW

__all__ = ["AdamW"]
