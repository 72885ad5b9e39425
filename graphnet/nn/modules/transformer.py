"""`torch.nn.modules.transformer`'s names, for code that imports them from there."""

from __future__ import annotations

from .._transformer import _generate_square_subsequent_mask, _get_activation_fn, _get_clones  # noqa: F401
from .. import (  # noqa: F401
    Transformer, TransformerDecoder, TransformerDecoderLayer, TransformerEncoder,
    TransformerEncoderLayer
)
