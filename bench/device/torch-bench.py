"""PyTorch CUDA rows of the GPU bench: the same workloads as bench/src/gpu/gpu-bench.ts on the same GPU.

matmul TFLOP/s in float32 (TF32 off, as WGSL's f32 arithmetic), W1 (one-hot input, 1-layer LSTM H=128,
linear head, cross-entropy, Adam 1e-3, batch 32x64, vocab 65) and W7 (embedding 64, 2x256 LSTM, batch 32x64,
Adam 2e-3, clip 5) training characters/s.   python3 torch-bench.py [--tiny] [--out results.json]
"""
import json
import sys
import time

import torch

tiny = '--tiny' in sys.argv
out = sys.argv[sys.argv.index('--out') + 1] if '--out' in sys.argv else None
dev = torch.device('cuda')
torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
rows = []


def timed(fn, reps):
    fn()
    torch.cuda.synchronize()
    best = float('inf')
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(reps):
            fn()
        torch.cuda.synchronize()
        best = min(best, (time.perf_counter() - t0) / reps)
    return best


for n in ([64, 128] if tiny else [1024, 2048, 4096]):
    a = torch.rand(n, n, device=dev) - 0.5
    b = torch.rand(n, n, device=dev) - 0.5
    s = timed(lambda: a @ b, 2 if tiny else min(200, max(2, round(2e11 / (2 * n ** 3)))))
    rows.append({'workload': 'W4', 'library': 'pytorch-cuda', 'label': f'matmul {n}^2 f32', 'value': 2 * n ** 3 / s / 1e12, 'unit': 'TFLOP/s'})


def train_row(workload, model, make_batch, lr, clip, chars, label):
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = torch.nn.CrossEntropyLoss()
    batches = [make_batch() for _ in range(8)]
    state = {'i': 0}

    def step():
        x, y = batches[state['i'] % 8]
        state['i'] += 1
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x).reshape(-1, model.vocab), y.reshape(-1))
        loss.backward()
        if clip:
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
    s = timed(step, 5 if tiny else 30)
    rows.append({'workload': workload, 'library': 'pytorch-cuda', 'label': label, 'value': chars / s, 'unit': 'chars/s', 'detail': {'ms per step': round(s * 1e3, 2)}})


class OneHotLstm(torch.nn.Module):
    def __init__(self, vocab, hidden, layers, embed=None):
        super().__init__()
        self.vocab = vocab
        self.embed = torch.nn.Embedding(vocab, embed) if embed else None
        self.rnn = torch.nn.LSTM(embed or vocab, hidden, layers, batch_first=True)
        self.head = torch.nn.Linear(hidden, vocab)

    def forward(self, x):
        if self.embed is not None:
            x = self.embed(x)
        return self.head(self.rnn(x)[0])


v, h, n, t = (11, 16, 4, 8) if tiny else (65, 128, 32, 64)
w1 = OneHotLstm(v, h, 1).to(dev)
train_row('W1', w1, lambda: (torch.nn.functional.one_hot(torch.randint(0, v, (n, t), device=dev), v).float(), torch.randint(0, v, (n, t), device=dev)),
          1e-3, None, n * t, f'H={h} N={n} T={t}')
v, e, h, n, t = (11, 8, 16, 4, 8) if tiny else (65, 64, 256, 32, 64)
w7 = OneHotLstm(v, h, 2, embed=e).to(dev)
train_row('W7', w7, lambda: (torch.randint(0, v, (n, t), device=dev), torch.randint(0, v, (n, t), device=dev)), 2e-3, 5, n * t,
          f'2x{h} LSTM, emb {e}, N={n} T={t}, clip 5')

for r in rows:
    print(f"{r['workload']:<4} {r['library']:<16} {r['label']:<44} {r['value']:>12.2f} {r['unit']}  {r.get('detail', '')}")
if out:
    with open(out, 'w') as f:
        json.dump({'device': torch.cuda.get_device_name(0), 'torch': torch.__version__, 'rows': rows}, f, indent=2)
