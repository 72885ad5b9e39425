"""Seed corpus, seed 003 (Dive-into-DL notes) §2-3: tensors, views, NumPy interop, devices,
autograd (grad, grad_fn, is_leaf, detach, no_grad, accumulation, the .data hazard) and the
Dataset / DataLoader pipeline."""

import warnings

import numpy as np

from corpus_common import arr, program


@program("003 §2-2 tensors")
def tensor_basics(T, nn, F):
    x = T.from_numpy(np.arange(6, dtype=np.float32).reshape(2, 3))
    out = {"empty": T.empty(5, 3).shape}
    y = x.clone()
    y += 1  # x += 1 on a copy: the original is untouched
    out["inplace_add"], out["original"] = y, x
    out["broadcast"] = T.tensor([[1.0, 2.0]]) + T.zeros(3, 1)
    out["square"], out["mm"] = x ** 2, T.mm(x, x.t())
    z = x.clone()
    z.t_()
    out["t_"] = z
    a = np.ones(3, dtype=np.float32)
    b = T.tensor(a)  # torch.tensor() copies
    a += 1
    out["tensor_copies"] = b
    out["to_double"] = x.to("cpu", T.double)
    out["numpy"] = x.numpy().sum().item()
    return out


@program("003 §2-2: a view shares memory with its source")
def view_shares_memory(T, nn, F):
    b = T.zeros(3, 5)
    a = b.view(15)
    a += 1
    return b


@program("003 §2-2: numpy() and from_numpy() share memory",
         xfail="graphnet cannot share memory with NumPy (JAX arrays are immutable): "
               "t.numpy() returns a writable copy, so `b += 1` leaves `a` at 1, and "
               "from_numpy(d) does not see later changes to d")
def numpy_shares_memory(T, nn, F):
    a = T.ones(3)
    b = a.numpy()
    b += 1
    d = np.ones(3)
    c = T.from_numpy(d)
    d += 1
    return {"a": a, "c": c}


@program("003 §2-2/4-6: torch.device and device= arguments")
def device_arguments(T, nn, F):
    x = T.ones(2)
    y = T.ones_like(x, device=T.device("cpu"))
    return y.to("cpu", T.double)


@program("003 §2-2: torch.einsum as an alternative to torch.mm")
def einsum_matmul(T, nn, F):
    x = arr(T, 2, 3)
    return T.einsum("ij,kj->ik", x, x)


@program("003 §2-3 autograd")
def autograd_basics(T, nn, F):
    x = T.ones(2, 2, requires_grad=True)
    y = x + 2
    z = y * y * 3
    out = z.mean()
    out.backward()
    res = {"grad": x.grad, "grad_fn_none": [x.grad_fn is None, y.grad_fn is None],
           "leaf": [x.is_leaf, y.is_leaf], "detached": y.detach().requires_grad}
    x = T.tensor(2.0, requires_grad=True)
    y_1 = x ** 2
    with T.no_grad():
        y_2 = x ** 3
    y_3 = y_1 + y_2
    y_3.backward()
    res["no_grad_part"] = [y_3, x.grad, y_2.requires_grad]
    x = T.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    (x * x).sum().backward()  # gradients accumulate
    res["accumulated"] = x.grad.clone()
    x.grad.data.zero_()
    res["zeroed"] = x.grad
    try:
        T.ones(1).sum().backward()
        res["backward_without_grad"] = "no error"
    except RuntimeError:
        res["backward_without_grad"] = "RuntimeError"
    return res


@program("003 §2-3: the .data hazard")   # torch's backward reads the mutated x: grad 200
def data_hazard(T, nn, F):
    x = T.ones(1, requires_grad=True)
    y = x ** 2
    x.data *= 100
    y.backward()
    return {"x": x, "grad": x.grad}


@program("003 §3-1: torch.set_default_tensor_type")
def default_tensor_type(T, nn, F):
    with warnings.catch_warnings():  # torch deprecated it in 2.1; the seed still uses it
        warnings.simplefilter("ignore")
        T.set_default_tensor_type("torch.FloatTensor")
    return T.randn(2, 3, dtype=T.float32).dtype


@program("003 §3-1 Dataset/DataLoader")
def dataset_and_loader(T, nn, F):
    Data = T.utils.data

    class MyDataset(Data.Dataset):
        def __init__(self, myList):
            super().__init__()
            self.myList = myList
            self.length = len(myList)

        def __getitem__(self, idx):
            return {"input_ids": self.myList[idx]}

        def __len__(self):
            return self.length

    features = arr(T, 10, 2)
    labels = T.mm(features, T.tensor([[2.0], [-3.4]])) + 4.2
    dataset = Data.TensorDataset(features, labels)
    batches = [[X, y] for X, y in Data.DataLoader(dataset=dataset, batch_size=4)]
    dicts = list(Data.DataLoader(MyDataset([[i, i + 1] for i in range(5)]), batch_size=2))
    loader = Data.DataLoader(dataset, batch_size=3, shuffle=True, drop_last=True)
    shapes = [tuple(X.shape) for X, y in loader]  # the order is random; the shapes are not
    return {"batches": batches, "dicts": dicts, "len": [len(loader), shapes]}
