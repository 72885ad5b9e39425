"""`torch.nn.modules`: the module classes, and submodules named as PyTorch's (`loss`,
`batchnorm`, `conv`, `module`, `utils` ...), for code that imports from those paths
(`from torch.nn.modules.loss import _Loss`). Each submodule re-exports graphnet.nn's
classes; nothing here is defined twice."""

from __future__ import annotations

import sys

from . import (  # noqa: F401
    activation, adaptive, batchnorm, channelshuffle, container, conv, distance, dropout,
    flatten, fold, instancenorm, linear, loss, module, normalization, padding, pixelshuffle,
    pooling, rnn, sparse, transformer, upsampling, utils,
)

# every module class graphnet.nn exports (imported last by graphnet/nn/__init__.py)
_nn = sys.modules[__name__.rpartition(".")[0]]
globals().update({name: getattr(_nn, name) for name in _nn.__all__
                  if isinstance(getattr(_nn, name), type)
                  and issubclass(getattr(_nn, name), _nn.Module)})
