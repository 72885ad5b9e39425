"""Optimizer update ops: no public function or method reaches them (an optimizer's step()
dispatches them), so each names the test that compares its optimizer with torch's."""

from __future__ import annotations

_FIXED = "test_fixed_gradients_match_torch_every_step"

ELSEWHERE = {
    "nadam_update": ("optim.NAdam", "tests/test_optim_extra.py", _FIXED),
    "radam_update": ("optim.RAdam", "tests/test_optim_extra.py", _FIXED),
    "adamax_update": ("optim.Adamax", "tests/test_optim_extra.py", _FIXED),
    "adadelta_update": ("optim.Adadelta", "tests/test_optim_extra.py", _FIXED),
    "asgd_update": ("optim.ASGD", "tests/test_optim_extra.py", _FIXED),
    "rprop_update": ("optim.Rprop", "tests/test_optim_extra.py", _FIXED),
    "adafactor_update": ("optim.Adafactor", "tests/test_optim_extra.py", _FIXED),
    "muon_update": ("optim.Muon", "tests/test_optim_extra_muon.py", _FIXED),
}
