"""`torch.utils.deterministic`: whether, under `use_deterministic_algorithms(True)`, the
tensors PyTorch leaves uninitialised (`empty`, `empty_like`, `new_empty`, `empty_strided`)
are filled, with NaN for floating point and the largest value for integers (True for
bool), so that code reading a slot it never wrote shows it. graphnet's are zeros otherwise
(graphnet/_settings.py `uninitialized`)."""

fill_uninitialized_memory = True
