"""The tracer's hooks for code that runs as a sub-graph of the trace: `graphnet.cond`,
`graphnet.while_loop` (compiler/control_flow.py) and `graphnet.func.vmap`
(compiler/vmap_trace.py). Each branch or mapped function is traced once into a sub-graph
held by one node."""

from __future__ import annotations


class StructuredOps:
    """Mixed into `Tracer`: the hooks graphnet/_control.py and graphnet/_func_vmap.py call
    on the active mode."""

    def cond(self, pred, true_fn, false_fn, operands):
        from graphnet._tensor import Tensor

        from .control_flow import trace_cond

        if not isinstance(pred, Tensor):
            # a Python bool or number is known while tracing: the chosen branch is traced
            # inline, as a Python `if` (torch.cond specializes on it too); the call's cache
            # already keys on a number argument and the state watch on a global's.
            # NOTE: it became `Tensor(pred)`, the legacy size constructor: `cond(1, ...)`
            # ran the false branch on an uninitialised one-element predicate
            return true_fn(*operands) if bool(pred) else false_fn(*operands)
        before = self.python_state.changes()
        result = trace_cond(self, pred, true_fn, false_fn, operands)
        self.python_state.refuse_changes_since(before, "graphnet.cond")
        return result

    def while_loop(self, cond_fn, body_fn, carry):
        from .control_flow import trace_while

        before = self.python_state.changes()
        result = trace_while(self, cond_fn, body_fn, carry)
        self.python_state.refuse_changes_since(before, "graphnet.while_loop")
        return result

    def vmap(self, call):
        # NOTE: no refusal of Python state changes: eager vmap runs the function once per
        # call too, so a change it makes happens once either way
        from .vmap_trace import trace_vmap

        return trace_vmap(self, call)
