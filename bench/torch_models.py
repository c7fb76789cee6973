# PyTorch versions of the bench workloads: the network, synthetic data of the same shape and
# the full-batch gradient of the log posterior (likelihood + isotropic Gaussian prior).
import math

import torch
import torch.nn.functional as F


def activation(name):
    return {"tanh": torch.nn.Tanh, "relu": torch.nn.ReLU, "swish": torch.nn.SiLU}[name]()


def mlp(n_in, hidden, n_out, act):
    layers, width = [], n_in
    for h in hidden:
        layers += [torch.nn.Linear(width, h), activation(act)]
        width = h
    layers.append(torch.nn.Linear(width, n_out))
    return torch.nn.Sequential(*layers)


def lenet5(channels, n_out, act):
    """LeNet-5 as in google-research bnn_hmc: conv 6 5x5 same, pool, conv 16 5x5 valid, pool,
    dense 120, 84, n_out."""
    return torch.nn.Sequential(
        torch.nn.Conv2d(channels, 6, 5, padding=2), activation(act), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(6, 16, 5), activation(act), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.LazyLinear(120), activation(act),
        torch.nn.Linear(120, 84), activation(act), torch.nn.Linear(84, n_out))


class FRN(torch.nn.Module):
    """Filter response normalisation with a thresholded linear unit (Singh & Krishnan 2020)."""

    def __init__(self, c, eps=1e-6):
        super().__init__()
        self.gamma = torch.nn.Parameter(torch.ones(1, c, 1, 1))
        self.beta = torch.nn.Parameter(torch.zeros(1, c, 1, 1))
        self.tau = torch.nn.Parameter(torch.zeros(1, c, 1, 1))
        self.eps = eps

    def forward(self, x):
        nu2 = x.pow(2).mean(dim=(2, 3), keepdim=True)
        x = x * torch.rsqrt(nu2 + self.eps)
        return torch.max(self.gamma * x + self.beta, self.tau)


class Block(torch.nn.Module):
    def __init__(self, c_in, c_out, stride, act):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(c_in, c_out, 3, stride, 1)
        self.norm1 = FRN(c_out)
        self.conv2 = torch.nn.Conv2d(c_out, c_out, 3, 1, 1)
        self.norm2 = FRN(c_out)
        self.act = activation(act)
        self.short = None
        if stride != 1 or c_in != c_out:
            self.short = torch.nn.Sequential(torch.nn.Conv2d(c_in, c_out, 1, stride), FRN(c_out))

    def forward(self, x):
        y = self.act(self.norm1(self.conv1(x)))
        y = self.norm2(self.conv2(y))
        return self.act(y + (x if self.short is None else self.short(x)))


def resnet20_frn(channels, n_out, act):
    layers = [torch.nn.Conv2d(channels, 16, 3, 1, 1), FRN(16), activation(act)]
    c = 16
    for stage, width in enumerate((16, 32, 64)):
        for b in range(3):
            layers.append(Block(c, width, 2 if stage > 0 and b == 0 else 1, act))
            c = width
    layers += [torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(c, n_out)]
    return torch.nn.Sequential(*layers)


def build(w, dtype):
    """The network, inputs and targets of workload w (a dict, see run_bench.WORKLOADS)."""
    g = torch.Generator().manual_seed(1)
    n, k = w["n"], w["classes"]
    if w.get("image"):
        h, wd, c = w["image"]
        x = torch.randn(n, c, h, wd, generator=g, dtype=dtype)
        builder = {"lenet5": lenet5, "resnet20-frn": resnet20_frn}[w["arch"]]
        net = builder(c, k, w["act"])
    else:
        x = torch.randn(n, w["in"], generator=g, dtype=dtype)
        hidden = [int(h) for h in w["arch"].split(":")[1].split(",")]
        net = mlp(w["in"], hidden, k, w["act"])
    net = net.to(dtype)
    with torch.no_grad():
        net(x[:2])  # materialise lazy layers
    if w["lik"] == "gaussian":
        y = torch.randn(n, 1, generator=g, dtype=dtype)
    else:
        y = torch.randint(0, k, (n,), generator=g)
    return net, x, y


def log_posterior_grad(net, x, y, lik, prior_var=1.0, noise_sd=1.0):
    """A closure computing the full-batch gradient of log p(y | x, θ) + log N(θ; 0, prior_var)."""
    params = [p for p in net.parameters()]
    inv_var = 1.0 / prior_var
    log_norm = -math.log(noise_sd) - 0.5 * math.log(2 * math.pi)

    def grad():
        f = net(x)
        if lik == "gaussian":
            ll = (-0.5 * ((y - f) / noise_sd).pow(2) + log_norm).sum()
        else:
            ll = -F.cross_entropy(f, y, reduction="sum")
        lp = ll - 0.5 * inv_var * sum((p * p).sum() for p in params)
        return torch.autograd.grad(lp, params)

    return grad
