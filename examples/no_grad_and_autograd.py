"""Autograd basics, mirroring seed 001 ("计算图与梯度求导": y = (x1 + w) * (x2 + w), dy/dw is
the sum over the two paths y->a->w and y->b->w) and seed 003 section 2-3 (requires_grad,
grad_fn, is_leaf, detach, no_grad, gradients accumulate across backward calls).

Run: python examples/no_grad_and_autograd.py
"""

import graphnet as torch


def path_sum(x1, x2, w):
    """y = a * b with a = x1 + w, b = x2 + w; dy/dw = b + a."""
    a = x1 + w
    b = x2 + w
    y = a * b
    y.backward()
    return y


def main() -> None:
    print("== seed 001: the computational graph y = (x1 + w) * (x2 + w) ==")
    w = torch.tensor([1.0], requires_grad=True)
    x1 = torch.tensor([2.0], requires_grad=True)
    x2 = torch.tensor([3.0], requires_grad=True)
    a = x1 + w
    b = x2 + w
    y = a * b
    y.backward()
    print("a =", a.item(), " b =", b.item(), " y =", y.item())
    print("dy/dw = b + a =", w.grad.item())
    print("dy/dx1 = b =", x1.grad.item(), "  dy/dx2 = a =", x2.grad.item())
    print("is_leaf  w, x1, a, y:", w.is_leaf, x1.is_leaf, a.is_leaf, y.is_leaf)
    print("grad_fn  w:", w.grad_fn, " a:", a.grad_fn is not None, " y:", y.grad_fn is not None)

    # the same graph traced once and compiled (a static graph): same numbers
    w2 = torch.tensor([1.0], requires_grad=True)
    y2 = torch.compile(path_sum)(torch.tensor([2.0]), torch.tensor([3.0]), w2)
    print("static graph: y =", y2.item(), " dy/dw =", w2.grad.item())

    print("== seed 003: requires_grad, detach, no_grad ==")
    x = torch.ones(2, 2, requires_grad=True)
    print(x)
    print("x.grad_fn:", x.grad_fn)
    y = x + 2
    print("y.requires_grad:", y.requires_grad, " y.is_leaf:", y.is_leaf)
    d = y.detach()
    print("detached: requires_grad", d.requires_grad, " grad_fn", d.grad_fn)
    with torch.no_grad():
        z = x * 3
    print("under no_grad: requires_grad", z.requires_grad, " grad_fn", z.grad_fn)

    x = torch.tensor(2.0, requires_grad=True)
    y_1 = x ** 2
    with torch.no_grad():
        y_2 = x ** 3  # not recorded: contributes no gradient
    y_3 = y_1 + y_2
    y_3.backward()
    print("y_3 =", y_3.item(), "; x.grad = 2x =", x.grad.item(), "(not 2x + 3x^2 = 16)")

    print("== gradients accumulate ==")
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    for i in range(3):
        (x * x).sum().backward()
        print(f"after backward #{i + 1}: x.grad = {x.grad.tolist()}")
    x.grad.zero_()
    print("after x.grad.zero_():", x.grad.tolist())
    try:
        torch.ones(2).sum().backward()
    except RuntimeError as err:
        print("backward without requires_grad raises:", str(err).split(":")[0])


if __name__ == "__main__":
    main()
