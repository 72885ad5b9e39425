"""Seed corpus, seed 003 §5-6 (Dive-into-DL notes): corr2d, Conv2d/pooling, LeNet, VGG and
NiN blocks, GoogLeNet's Inception, BatchNorm (from scratch and built in), ResNet's
Residual, and an RNN layer. Spatial sizes are shrunk so the corpus stays fast."""

from corpus_common import arr, det_init, program


@program("003 §5-1 corr2d")
def corr2d(T, nn, F):
    def corr2d(X, K):
        h, w = K.shape
        X, K = X.float(), K.float()
        Y = T.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1))
        for i in range(Y.shape[0]):
            for j in range(Y.shape[1]):
                Y[i, j] = (X[i: i + h, j: j + w] * K).sum()
        return Y

    X = T.tensor([[0, 1, 2], [3, 4, 5], [6, 7, 8]])
    K = T.tensor([[0, 1], [2, 3]])
    return corr2d(X, K)


@program("003 §5-2/5-4 Conv2d shapes and pooling")
def conv_and_pooling(T, nn, F):
    conv = det_init(T, nn.Conv2d(1, 6, 5))
    strided = det_init(T, nn.Conv2d(2, 3, kernel_size=(3, 5), stride=(2, 1), padding=(1, 2)))
    x = arr(T, 2, 1, 8, 8)
    x2 = arr(T, 1, 2, 8, 8, seed=1)
    return {"reprs": [str(conv), str(strided), str(nn.MaxPool2d(2, 2)),
                      str(nn.AvgPool2d(kernel_size=5))],
            "conv": conv(x), "strided": strided(x2),
            "max": nn.MaxPool2d(3, padding=1, stride=2)(x2), "avg": nn.AvgPool2d(2)(x2),
            "cat": T.cat((x2, x2[:, :1]), dim=1).shape}


@program("003 §5-5 LeNet")
def lenet(T, nn, F):
    class LeNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Sequential(
                nn.Conv2d(1, 6, 5), nn.Sigmoid(), nn.MaxPool2d(2, 2),
                nn.Conv2d(6, 16, 5), nn.Sigmoid(), nn.MaxPool2d(2, 2))
            self.fc = nn.Sequential(
                nn.Linear(16 * 4 * 4, 120), nn.Sigmoid(), nn.Linear(120, 84), nn.Sigmoid(),
                nn.Linear(84, 10))

        def forward(self, img):
            feature = self.conv(img)
            return self.fc(feature.view(img.shape[0], -1))

    net = det_init(T, LeNet(), scale=0.2)
    img = arr(T, 2, 1, 28, 28)
    y = net(img)
    F.cross_entropy(y, T.tensor([3, 7])).backward()
    return {"repr": str(net), "y": y, "grad": net.conv[0].weight.grad}


def vgg_block(nn, num_convs, in_channels, out_channels):
    blk = []
    for i in range(num_convs):
        if i == 0:
            blk.append(nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1))
        else:
            blk.append(nn.Conv2d(out_channels, out_channels, kernel_size=3, padding=1))
        blk.append(nn.ReLU())
    blk.append(nn.MaxPool2d(kernel_size=2, stride=2))
    return nn.Sequential(*blk)


@program("003 §5-7 VGG")
def vgg(T, nn, F):
    class FlattenLayer(nn.Module):
        def forward(self, x):
            return x.view(x.shape[0], -1)

    def vgg_net(conv_arch, fc_features, fc_hidden_units):
        net = nn.Sequential()
        for i, (num_convs, in_channels, out_channels) in enumerate(conv_arch):
            net.add_module("vgg_block_" + str(i + 1),
                           vgg_block(nn, num_convs, in_channels, out_channels))
        net.add_module("fc", nn.Sequential(
            FlattenLayer(), nn.Linear(fc_features, fc_hidden_units), nn.ReLU(),
            nn.Dropout(0.5), nn.Linear(fc_hidden_units, fc_hidden_units), nn.ReLU(),
            nn.Dropout(0.5), nn.Linear(fc_hidden_units, 10)))
        return net

    net = det_init(T, vgg_net(((1, 1, 4), (2, 4, 8)), 8 * 4 * 4, 16), scale=0.3).eval()
    X = arr(T, 1, 1, 16, 16)
    shapes = []
    for name, blk in net.named_children():
        X = blk(X)
        shapes.append((name, "output shape: ", X.shape))
    return {"repr": str(net), "shapes": shapes, "y": X}


@program("003 §5-8 NiN")
def nin(T, nn, F):
    def nin_block(in_channels, out_channels, kernel_size, stride, padding):
        return nn.Sequential(nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding),
                             nn.ReLU(), nn.Conv2d(out_channels, out_channels, kernel_size=1),
                             nn.ReLU(), nn.Conv2d(out_channels, out_channels, kernel_size=1),
                             nn.ReLU())

    class FlattenLayer(nn.Module):
        def forward(self, x):
            return x.view(x.shape[0], -1)

    net = nn.Sequential(
        nin_block(1, 8, kernel_size=5, stride=2, padding=0),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Dropout(0.5),
        nin_block(8, 10, kernel_size=3, stride=1, padding=1),
        nn.AvgPool2d(kernel_size=3),
        FlattenLayer())
    det_init(T, net, scale=0.3).eval()
    X = arr(T, 1, 1, 17, 17)
    shapes = []
    for name, blk in net.named_children():
        X = blk(X)
        shapes.append((name, "output shape: ", X.shape))
    return {"repr": str(net), "shapes": shapes, "y": X}


@program("003 §5-9 GoogLeNet Inception")
def inception(T, nn, F):
    class Inception(nn.Module):
        def __init__(self, in_c, c1, c2, c3, c4):
            super().__init__()
            self.p1_1 = nn.Conv2d(in_c, c1, kernel_size=1)
            self.p2_1 = nn.Conv2d(in_c, c2[0], kernel_size=1)
            self.p2_2 = nn.Conv2d(c2[0], c2[1], kernel_size=3, padding=1)
            self.p3_1 = nn.Conv2d(in_c, c3[0], kernel_size=1)
            self.p3_2 = nn.Conv2d(c3[0], c3[1], kernel_size=5, padding=2)
            self.p4_1 = nn.MaxPool2d(kernel_size=3, stride=1, padding=1)
            self.p4_2 = nn.Conv2d(in_c, c4, kernel_size=1)

        def forward(self, x):
            p1 = F.relu(self.p1_1(x))
            p2 = F.relu(self.p2_2(F.relu(self.p2_1(x))))
            p3 = F.relu(self.p3_2(F.relu(self.p3_1(x))))
            p4 = F.relu(self.p4_2(self.p4_1(x)))
            return T.cat((p1, p2, p3, p4), dim=1)

    blk = det_init(T, Inception(4, 2, (2, 3), (2, 3), 2), scale=0.4)
    y = blk(arr(T, 1, 4, 6, 6))
    parts = (T.ones(3, 2, 4), T.ones(3, 5, 4), T.ones(3, 1, 4), T.ones(3, 2, 4))
    return {"y": y, "cat_shape": T.cat(parts, dim=1).shape}


@program("003 §5-10 BatchNorm from scratch")
def batch_norm_from_scratch(T, nn, F):
    def batch_norm(is_training, X, gamma, beta, moving_mean, moving_var, eps, momentum):
        if not is_training:
            X_hat = (X - moving_mean) / T.sqrt(moving_var + eps)
        else:
            assert len(X.shape) in (2, 4)
            if len(X.shape) == 2:
                mean = X.mean(dim=0)
                var = ((X - mean) ** 2).mean(dim=0)
            else:
                mean = X.mean(dim=0, keepdim=True).mean(dim=2, keepdim=True).mean(
                    dim=3, keepdim=True)
                var = ((X - mean) ** 2).mean(dim=0, keepdim=True).mean(
                    dim=2, keepdim=True).mean(dim=3, keepdim=True)
            X_hat = (X - mean) / T.sqrt(var + eps)
            moving_mean = momentum * moving_mean + (1.0 - momentum) * mean
            moving_var = momentum * moving_var + (1.0 - momentum) * var
        Y = gamma * X_hat + beta
        return Y, moving_mean, moving_var

    class BatchNorm(nn.Module):
        def __init__(self, num_features, num_dims):
            super().__init__()
            shape = (1, num_features) if num_dims == 2 else (1, num_features, 1, 1)
            self.gamma = nn.Parameter(T.ones(shape))
            self.beta = nn.Parameter(T.zeros(shape))
            self.moving_mean = T.zeros(shape)
            self.moving_var = T.zeros(shape)

        def forward(self, X):
            if self.moving_mean.device != X.device:
                self.moving_mean = self.moving_mean.to(X.device)
                self.moving_var = self.moving_var.to(X.device)
            Y, self.moving_mean, self.moving_var = batch_norm(
                self.training, X, self.gamma, self.beta, self.moving_mean, self.moving_var,
                eps=1e-5, momentum=0.9)
            return Y

    out = {}
    for dims, x in ((2, arr(T, 6, 3)), (4, arr(T, 2, 3, 4, 4))):
        bn = BatchNorm(3, dims)
        y = bn(x)
        y.sum().backward()
        bn.eval()
        out[dims] = [y, bn.moving_mean, bn.moving_var, bn.gamma.grad, bn(x)]
    return out


@program("003 §5-10 nn.BatchNorm2d / BatchNorm1d")
def batch_norm_layers(T, nn, F):
    net = nn.BatchNorm2d(5)
    t = arr(T, 3, 5, 2, 3)
    output = net(t)
    stats = [(T.mean(output[:, i, :, :]), T.var(output[:, i, :, :])) for i in range(5)]
    fc = det_init(T, nn.Sequential(nn.Linear(16, 12), nn.BatchNorm1d(12), nn.Sigmoid(),
                                   nn.Linear(12, 10)))
    x = arr(T, 4, 16)
    train_y = fc(x)
    fc.eval()
    return {"repr": [str(net), str(fc)], "stats": stats, "running": [net.running_mean,
                                                                      net.running_var],
            "train": train_y, "eval": fc(x), "tracked": fc[1].num_batches_tracked}


@program("003 §5-11 ResNet Residual")
def residual(T, nn, F):
    class Residual(nn.Module):
        def __init__(self, in_channels, out_channels, use_1x1conv=False, stride=1):
            super().__init__()
            self.conv1 = nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1,
                                   stride=stride)
            self.conv2 = nn.Conv2d(out_channels, out_channels, kernel_size=3, padding=1)
            if use_1x1conv:
                self.conv3 = nn.Conv2d(in_channels, out_channels, kernel_size=1, stride=stride)
            else:
                self.conv3 = None
            self.bn1 = nn.BatchNorm2d(out_channels)
            self.bn2 = nn.BatchNorm2d(out_channels)

        def forward(self, X):
            Y = F.relu(self.bn1(self.conv1(X)))
            Y = self.bn2(self.conv2(Y))
            if self.conv3:
                X = self.conv3(X)
            return F.relu(Y + X)

    X = arr(T, 2, 3, 6, 6)
    same = det_init(T, Residual(3, 3), scale=0.3)
    down = det_init(T, Residual(3, 6, use_1x1conv=True, stride=2), scale=0.3)
    y = down(X)
    y.sum().backward()
    return {"same": same(X), "down": y, "repr": str(down), "grad": down.conv3.weight.grad,
            "names": [n for n, _ in down.named_parameters()]}


@program("003 §6 RNN layer")
def rnn_layer(T, nn, F):
    vocab_size, num_hiddens = 6, 4
    rnn = det_init(T, nn.RNN(input_size=vocab_size, hidden_size=num_hiddens))
    X = arr(T, 5, 2, vocab_size)  # (seq_len, batch, input_size)
    Y, state = rnn(X)
    return {"repr": str(rnn), "Y": Y, "state": state,
            "names": [n for n, _ in rnn.named_parameters()]}
