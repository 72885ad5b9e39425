"""A trainer whose `fit()` calls its compiled step and then counts `self.global_step += 1`
compiles once: the attributes only the running `fit()` names are not the program's to guard.
What the step itself, or a method it calls, reads is still guarded."""
import graphnet as G


class Trainer:
    def __init__(self):
        G.manual_seed(0)
        self.model = G.nn.Linear(3, 2)
        self.opt = G.optim.SGD(self.model.parameters(), lr=0.1)
        self.global_step = 0
        self.factor = 1.0
        self.step = G.compile(self.training_step)

    def scale(self):
        return self.factor

    def training_step(self, x):
        self.opt.zero_grad()
        loss = self.model(x).pow(2).sum() * self.scale()
        loss.backward()
        self.opt.step()
        return loss.detach()

    def fit(self, n):
        losses = []
        for _ in range(n):
            losses.append(float(self.step(G.ones(2, 3))))
            self.global_step += 1
        return losses


def test_fit_counter_does_not_retrace():
    trainer = Trainer()
    trainer.fit(5)
    assert trainer.step.explain()["graphs"] == 1
    assert trainer.global_step == 5


def test_a_value_a_called_method_reads_still_retraces():
    trainer, eager = Trainer(), Trainer()
    trainer.fit(2)
    trainer.factor = 0.5
    got = trainer.fit(2)
    eager.step = eager.training_step
    eager.fit(2)
    eager.factor = 0.5
    want = eager.fit(2)
    assert trainer.step.explain()["graphs"] == 2
    assert got == want
