"""PyTorch rows of the GPU bench: the same workloads as bench/src/gpu/gpu-bench.ts, on the same machine.

W4 matmul TFLOP/s in float32 (TF32 off, as WGSL's f32 arithmetic); W1 and W2 (one-hot input, a 1-layer LSTM
or GRU of H=128, linear head, cross-entropy, Adam 1e-3, batch 32x64, vocab 65) training characters/s and W3
(W1's model, forward only, no gradients); W7 (embedding 64, 2x256 LSTM, batch 32x64, Adam 2e-3, clip 5) and
W8 (the same with 2x512, batch 128x64) training characters/s. Labels are gpu-bench.ts's, so rows pair up.

    python3 torch-bench.py [--tiny] [--out results.json] [--tapestry gpu-bench.json]
    python3 torch-bench.py --cpu N [--tiny] [--out results.json]

On CUDA by default; `--cpu N` runs W7 on the CPU instead, on N threads (set OMP_NUM_THREADS and its kin to N
before Python starts: a BLAS reads them once). `--tapestry` prints, for every row both benches have, the
ratio of tapestry's value to PyTorch's, and adds the ratios to the output.
"""
import json
import sys
import time

import torch


def arg(name):
    return sys.argv[sys.argv.index(name) + 1] if name in sys.argv else None


tiny = '--tiny' in sys.argv
out = arg('--out')
cpu_threads = int(arg('--cpu')) if arg('--cpu') else None
if cpu_threads:
    torch.set_num_threads(cpu_threads)
dev = torch.device('cpu' if cpu_threads else 'cuda')
library = f'pytorch-cpu-{cpu_threads}t' if cpu_threads else 'pytorch-cuda'
torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
rows = []


def sync():
    if dev.type == 'cuda':
        torch.cuda.synchronize()


def timed(fn, reps, trials=5):
    fn()
    sync()
    best = float('inf')
    for _ in range(trials):
        t0 = time.perf_counter()
        for _ in range(reps):
            fn()
        sync()
        best = min(best, (time.perf_counter() - t0) / reps)
    return best


def add(row):
    rows.append(row)
    print(f"{row['workload']:<4} {row['library']:<16} {row['label']:<44} {row['value']:>12.2f} {row['unit']}  {row.get('detail', '')}", flush=True)


class OneHotRnn(torch.nn.Module):
    """W1-W3 and W7/W8: an LSTM or GRU (PyTorch's own, cuDNN on CUDA) on one-hot or embedded ids, a linear head."""

    def __init__(self, vocab, hidden, layers, embed=None, cell=torch.nn.LSTM):
        super().__init__()
        self.vocab = vocab
        self.embed = torch.nn.Embedding(vocab, embed) if embed else None
        self.rnn = cell(embed or vocab, hidden, layers, batch_first=True)
        self.head = torch.nn.Linear(hidden, vocab)

    def forward(self, x):
        if self.embed is not None:
            x = self.embed(x)
        return self.head(self.rnn(x)[0])


def batches(make_batch):
    made = [make_batch() for _ in range(8)]
    state = {'i': 0}

    def next_batch():
        state['i'] += 1
        return made[state['i'] % 8]
    return next_batch


def train_row(workload, model, make_batch, lr, clip, chars, label, reps):
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = torch.nn.CrossEntropyLoss()
    next_batch = batches(make_batch)

    def step():
        x, y = next_batch()
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x).reshape(-1, model.vocab), y.reshape(-1))
        loss.backward()
        if clip:
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
    s = timed(step, reps)
    add({'workload': workload, 'library': library, 'label': label, 'value': chars / s, 'unit': 'chars/s', 'detail': {'ms per step': round(s * 1e3, 2)}})


def forward_row(workload, model, make_batch, chars, label, reps):
    loss_fn = torch.nn.CrossEntropyLoss()
    next_batch = batches(make_batch)

    def forward():
        x, y = next_batch()
        with torch.no_grad():
            loss_fn(model(x).reshape(-1, model.vocab), y.reshape(-1))
    s = timed(forward, reps)
    add({'workload': workload, 'library': library, 'label': label, 'value': chars / s, 'unit': 'chars/s', 'detail': {'ms per forward': round(s * 1e3, 2)}})


def char_rows(workload, v, e, h, n, t, reps):
    model = OneHotRnn(v, h, 2, embed=e).to(dev)
    train_row(workload, model, lambda: (torch.randint(0, v, (n, t), device=dev), torch.randint(0, v, (n, t), device=dev)), 2e-3, 5, n * t,
              f'2×{h} LSTM, emb {e}, N={n} T={t}, clip 5', reps)


if cpu_threads:
    # the CPU reference for W7 (PyTorch on 1 and on all cores)
    char_rows('W7', *((11, 8, 16, 4, 8) if tiny else (65, 64, 256, 32, 64)), reps=3)
else:
    for n in ([128, 64] if tiny else [4096, 2048, 1024]):
        a = torch.rand(n, n, device=dev) - 0.5
        b = torch.rand(n, n, device=dev) - 0.5
        s = timed(lambda: a @ b, 2 if tiny else min(200, max(2, round(2e11 / (2 * n ** 3)))))
        add({'workload': 'W4', 'library': library, 'label': f'matmul {n}² f32', 'value': 2 * n ** 3 / s / 1e12, 'unit': 'TFLOP/s'})
    reps = 5 if tiny else 30
    char_rows('W7', *((11, 8, 16, 4, 8) if tiny else (65, 64, 256, 32, 64)), reps=reps)
    v, h, n, t = (11, 16, 4, 8) if tiny else (65, 128, 32, 64)

    def one_hot_batch():
        return torch.nn.functional.one_hot(torch.randint(0, v, (n, t), device=dev), v).float(), torch.randint(0, v, (n, t), device=dev)
    train_row('W1', OneHotRnn(v, h, 1).to(dev), one_hot_batch, 1e-3, None, n * t, f'H={h} N={n} T={t}', reps)
    train_row('W2', OneHotRnn(v, h, 1, cell=torch.nn.GRU).to(dev), one_hot_batch, 1e-3, None, n * t, f'H={h} N={n} T={t}', reps)
    forward_row('W3', OneHotRnn(v, h, 1).to(dev), one_hot_batch, n * t, f'H={h} N={n} T={t}', reps)
    char_rows('W8', *((11, 8, 32, 4, 8) if tiny else (65, 64, 512, 128, 64)), reps=reps)

result = {'device': 'cpu' if cpu_threads else torch.cuda.get_device_name(0), 'torch': torch.__version__, 'rows': rows}
tapestry = arg('--tapestry')
if tapestry:
    try:
        with open(tapestry) as f:
            theirs = json.load(f)['rows']
    except (OSError, ValueError, KeyError) as e:
        print(f'torch-bench: no tapestry rows to compare ({e})')
        theirs = []
    ours = {(r['workload'], r['label']): r for r in rows}
    ratios = []
    for r in theirs:
        mine = ours.get((r['workload'], r['label']))
        if mine is not None and mine['value'] > 0:
            ratios.append({'workload': r['workload'], 'label': r['label'], 'unit': r['unit'], 'tapestry': r['value'], library: mine['value'],
                           'ratio': r['value'] / mine['value']})
    print(f'tapestry-webgpu ÷ {library} (same labels, same machine):')
    for q in ratios:
        print(f"  {q['workload']:<4} {q['label']:<44} {q['ratio']:>6.2f}x  ({q['tapestry']:.4g} vs {q[library]:.4g} {q['unit']})")
    result['ratios'] = ratios
if out:
    with open(out, 'w') as f:
        json.dump(result, f, indent=2, ensure_ascii=False)
