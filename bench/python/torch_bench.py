"""PyTorch's side of the bench: one workload at one thread count, driven over stdin/stdout by bench/src/pytorch.ts.

Usage: python3 torch_bench.py SPEC.json. The spec names the workload, the sizes, the thread count and a file of
float32/int32 arrays (the initial weights and the batch tapestry uses, so the losses can be compared). The script
prints {"ready": ...} and then answers each request line {"steps": n} with {"values": [[...] per step],
"times": [ms per step]}, timing each step itself; {"quit": true} ends it.
"""
import json
import sys
import time

from torch_threads import blas_threads, pin_threads

if __name__ == "__main__":
    # before torch loads: its thread pools read their sizes then
    pin_threads(json.load(open(sys.argv[1]))["threads"])

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402


def load_arrays(spec):
    raw = open(spec["arrays"], "rb").read()
    out = {}
    for name, (dtype, offset, length, shape) in spec["layout"].items():
        array = np.frombuffer(raw, dtype=np.float32 if dtype == "float32" else np.int32, count=length, offset=offset)
        out[name] = torch.from_numpy(array.copy()).reshape(shape)
    return out


class Recurrent(torch.nn.Module):
    """W1/W2/W3: a one-layer LSTM or GRU (PyTorch's own) on one-hot inputs and a linear head."""

    def __init__(self, kind, v, h, a):
        super().__init__()
        self.rnn = (torch.nn.LSTM if kind == "lstm" else torch.nn.GRU)(v, h, batch_first=True)
        self.head = torch.nn.Linear(h, v)
        with torch.no_grad():
            self.rnn.weight_ih_l0.copy_(a["weightIh"])
            self.rnn.weight_hh_l0.copy_(a["weightHh"])
            self.rnn.bias_ih_l0.copy_(a["biasIh"])
            self.rnn.bias_hh_l0.copy_(a["biasHh"])
            self.head.weight.copy_(a["headWeight"])
            self.head.bias.copy_(a["headBias"])

    def forward(self, x):
        return self.head(self.rnn(x)[0])


class CustomLstm(torch.nn.Module):
    """W5: the LSTM cell written from tensor ops and run over time in a Python loop, as tapestry's W5 does."""

    def __init__(self, v, h, a):
        super().__init__()
        self.h = h
        self.weight_ih = torch.nn.Parameter(a["weightIh"].clone())
        self.weight_hh = torch.nn.Parameter(a["weightHh"].clone())
        self.bias_ih = torch.nn.Parameter(a["biasIh"].clone())
        self.bias_hh = torch.nn.Parameter(a["biasHh"].clone())
        self.head = torch.nn.Linear(h, v)
        with torch.no_grad():
            self.head.weight.copy_(a["headWeight"])
            self.head.bias.copy_(a["headBias"])

    def forward(self, x):
        n, steps, _ = x.shape
        h = x.new_zeros(n, self.h)
        c = x.new_zeros(n, self.h)
        outputs = []
        for t in range(steps):
            gates = x[:, t] @ self.weight_ih.t() + self.bias_ih + h @ self.weight_hh.t() + self.bias_hh
            i, f, g, o = gates.chunk(4, 1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
            outputs.append(h)
        return self.head(torch.stack(outputs, 1))


class CharRnn(torch.nn.Module):
    """W7: the char-RNN's default model: embedding, stacked LSTM, linear head."""

    def __init__(self, v, e, h, layers, a):
        super().__init__()
        self.embedding = torch.nn.Embedding(v, e)
        self.rnn = torch.nn.LSTM(e, h, num_layers=layers, batch_first=True)
        self.head = torch.nn.Linear(h, v)
        with torch.no_grad():
            for name, p in self.named_parameters():
                p.copy_(a[name])

    def forward(self, ids):
        return self.head(self.rnn(self.embedding(ids))[0])


def make_workload(spec, a):
    kind = spec["workload"]
    if kind == "matmul":
        x, y, reps, sample = a["a"], a["b"], spec["reps"], spec["sample"]

        def step():
            with torch.inference_mode():
                for _ in range(reps - 1):
                    torch.mm(x, y)
                out = torch.mm(x, y).reshape(-1)
                return [float(out[i]) for i in sample]

        return step
    s = spec["sizes"]
    v = s["vocab"]
    if kind == "char-rnn":
        model = CharRnn(v, s["embedding"], s["hidden"], s["layers"], a)
        inputs, targets = a["inputs"].long(), a["targets"].long().reshape(-1)
    else:
        model = CustomLstm(v, s["hidden"], a) if kind == "custom-lstm" else Recurrent(kind, v, s["hidden"], a)
        inputs, targets = a["x"], a["targets"].long().reshape(-1)
    optimizer = torch.optim.Adam(model.parameters(), lr=spec["lr"])
    clip = spec.get("clip")

    if spec["mode"] == "forward":

        def step():
            with torch.inference_mode():
                return [float(F.cross_entropy(model(inputs).reshape(-1, v), targets))]

        return step

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(inputs).reshape(-1, v), targets)
        loss.backward()
        if clip is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        optimizer.step()
        return [float(loss)]

    return step


def main():
    spec = json.load(open(sys.argv[1]))
    torch.set_num_threads(spec["threads"])
    torch.manual_seed(0)
    step = make_workload(spec, load_arrays(spec))
    ready = {"ready": True, "torch": torch.__version__, "threads": torch.get_num_threads(), "blasThreads": blas_threads()}
    print(json.dumps(ready), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        if request.get("quit"):
            break
        values, times = [], []
        for _ in range(request["steps"]):
            start = time.perf_counter()
            values.append(step())
            times.append((time.perf_counter() - start) * 1000)
        print(json.dumps({"values": values, "times": times}), flush=True)


if __name__ == "__main__":
    main()
