"""The tracer's hooks for code that runs as a sub-graph of the trace: `graphnet.cond`,
`graphnet.while_loop` (compiler/control_flow.py) and `graphnet.func.vmap`
(compiler/vmap_trace.py). Each branch or mapped function is traced once into a sub-graph
held by one node."""

from __future__ import annotations


class StructuredOps:
    """Mixed into `Tracer`: the hooks graphnet/_control.py and graphnet/_func_vmap.py call
    on the active mode."""

    def cond(self, pred, true_fn, false_fn, operands):
        from .control_flow import trace_cond

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
