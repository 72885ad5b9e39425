"""The README's "both modes" example runs as printed, and its two modes agree."""

import os
import re

README = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "README.md")


def test_the_ten_line_example_runs_and_both_modes_agree(capsys):
    text = open(README, encoding="utf-8").read()
    example = re.search(r"## Both modes in ten lines\n+```python\n(.*?)```", text, re.S).group(1)
    namespace: dict = {}
    exec(compile(example, "README.md", "exec"), namespace)
    printed = capsys.readouterr().out
    assert "graph train_step(%x: f32[128,784], %y: i64[128]):" in printed
    assert "'recompile_reasons': ['first call']" in printed
    # one more step each way, from the same parameters: the same loss
    torch, x, y = namespace["torch"], namespace["x"], namespace["y"]
    model, step, fast_step = namespace["model"], namespace["train_step"], namespace["fast_step"]
    snapshot = {k: v.clone() for k, v in model.state_dict().items()}
    static_loss = fast_step(x, y).item()
    model.load_state_dict(snapshot)
    assert abs(step(x, y).item() - static_loss) < 1e-5
    assert isinstance(static_loss, float) and torch.__name__ == "graphnet"
