"""The char-RNN main job in PyTorch, configured exactly as tapestry's (examples/char-rnn), for a side-by-side run.

Everything that defines the run follows examples/char-rnn: the text (the same file), split 90/5/5 by code-point
position with the cut points computed as @tapestry/data's splitByPosition computes them; the vocabulary
(sorted(set(train)) plus an unknown character U+FFFD); embedding -> LSTM/GRU/tanh-RNN stack -> linear head, with
dropout where the example puts it (embeddings, between layers, recurrent output); PyTorch's default
initialisation (tapestry draws the same distributions, from its own generator); batchify into `batch`
contiguous streams; truncated BPTT over windows of `seq_len` with the state carried (detached) from window to
window and reset at each epoch; mean cross-entropy; clip_grad_norm_(clip), then Adam with a linear warm-up
from lr/warmup to lr over `warmup` updates (then constant, or a cosine decay to min_lr over decay_steps);
training time counted over the steps only and stopped once it reaches the budget; and the final validation
bits/char over the whole validation split, run as min(batch, (n - 1) // 2) streams in windows of seq_len with
the state carried, as evaluate.ts does.

Run by `pnpm --filter @tapestry/bench run main-vs-pytorch`; the last line it prints is its result as JSON.
"""

import argparse
import json
import math
import sys
import time

from torch_threads import blas_threads, pin_threads

if __name__ == "__main__":
    # --threads before torch loads, as its thread pools read their sizes then (main validates it)
    _peek = argparse.ArgumentParser(add_help=False)
    _peek.add_argument("--threads", type=int, default=1)
    pin_threads(max(1, _peek.parse_known_args()[0].threads))

import torch  # noqa: E402
from torch import nn  # noqa: E402

UNKNOWN = "\ufffd"


def split_by_position(chars, fractions=(0.9, 0.05, 0.05)):
    """Consecutive parts, part k from floor(c_k * n) to floor(c_(k+1) * n), the last ending at n (splitByPosition)."""
    n = len(chars)
    parts, begin, cumulative = [], 0, 0.0
    for k, fraction in enumerate(fractions):
        cumulative += fraction
        end = n if k == len(fractions) - 1 else min(n, math.floor(cumulative * n))
        parts.append(chars[begin:end])
        begin = end
    return parts


def batchify(ids, streams):
    """[streams, T]: stream b is ids[b*T:(b+1)*T], the trailing len % streams ids dropped (@tapestry/data's batchify)."""
    steps = len(ids) // streams
    return ids[: streams * steps].view(streams, steps)


def windows(source, seq_len):
    """(inputs, targets) of each truncated-BPTT window of an epoch, [N, L] each (bpttWindows)."""
    steps = source.size(1)
    for i in range(0, steps - 1, seq_len):
        length = min(seq_len, steps - 1 - i)
        yield source[:, i : i + length], source[:, i + 1 : i + 1 + length]


class CharModel(nn.Module):
    """Embedding -> recurrent stack -> linear head, dropout as in examples/char-rnn/src/model.ts."""

    def __init__(self, vocab, embedding, hidden, layers, cell, dropout):
        super().__init__()
        self.embedding = nn.Embedding(vocab, embedding)
        kind = {"lstm": nn.LSTM, "gru": nn.GRU}.get(cell)
        inter_layer = dropout if layers > 1 else 0.0
        if kind is None:
            self.rnn = nn.RNN(embedding, hidden, layers, nonlinearity="tanh", dropout=inter_layer, batch_first=True)
        else:
            self.rnn = kind(embedding, hidden, layers, dropout=inter_layer, batch_first=True)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, ids, state):
        output, state = self.rnn(self.drop(self.embedding(ids)), state)
        return self.head(self.drop(output)), state


def detach(state):
    return tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()


def lr_factor(update, lr, warmup, decay_steps, min_lr):
    """The learning rate of 0-based update `update` over lr: training.ts's makeOptimizer schedule."""
    w = max(1, warmup)
    if update < w:
        start = 1 / w
        return start + (1 - start) * update / w
    if decay_steps > 0:
        floor = min_lr / lr
        return floor + (1 - floor) * (1 + math.cos(math.pi * min(update - w, decay_steps) / decay_steps)) / 2
    return 1.0


@torch.inference_mode()
def bits_per_character(model, ids, batch, seq_len):
    """Mean cross-entropy in bits/char over `ids` as parallel streams with the state carried (evaluate.ts)."""
    model.eval()
    streams = max(1, min(batch, (len(ids) - 1) // 2))
    state, nats, count = None, 0.0, 0
    for inputs, targets in windows(batchify(ids, streams), seq_len):
        logits, state = model(inputs, state)
        loss = nn.functional.cross_entropy(logits.reshape(-1, logits.size(-1)), targets.reshape(-1))
        nats += loss.item() * targets.numel()
        count += targets.numel()
    model.train()
    return nats / count / math.log(2)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", required=True, help="the UTF-8 text tapestry trains on")
    parser.add_argument("--minutes", type=float, required=True, help="training-time budget")
    parser.add_argument("--threads", type=int, default=1, help="threads for all of PyTorch (set_num_threads, OpenBLAS, OpenMP)")
    parser.add_argument("--cell", choices=["lstm", "gru", "rnn"], default="lstm")
    parser.add_argument("--hidden", type=int, required=True)
    parser.add_argument("--layers", type=int, required=True)
    parser.add_argument("--embedding", type=int, required=True)
    parser.add_argument("--dropout", type=float, required=True)
    parser.add_argument("--seq-len", type=int, required=True)
    parser.add_argument("--batch", type=int, required=True)
    parser.add_argument("--lr", type=float, required=True)
    parser.add_argument("--warmup", type=int, required=True)
    parser.add_argument("--decay-steps", type=int, default=0)
    parser.add_argument("--min-lr", type=float, default=None, help="default lr/10")
    parser.add_argument("--clip", type=float, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-chars", type=int, default=None, help="use only the first n characters of the text")
    o = parser.parse_args()
    if o.threads < 1:
        parser.error(f"--threads must be a positive integer, got {o.threads}")
    torch.set_num_threads(o.threads)
    if blas_threads() not in (None, o.threads):
        sys.exit(f"char_rnn_torch: OpenBLAS runs {blas_threads()} threads, not --threads {o.threads}")
    torch.manual_seed(o.seed)
    min_lr = o.lr / 10 if o.min_lr is None else o.min_lr

    with open(o.data, encoding="utf-8") as f:
        text = f.read()
    chars = list(text) if o.max_chars is None else list(text)[: o.max_chars]
    train, valid, _test = split_by_position(chars)
    tokens = sorted(set(train)) + [UNKNOWN]
    index = {c: i for i, c in enumerate(tokens)}
    encode = lambda part: torch.tensor([index.get(c, len(tokens) - 1) for c in part], dtype=torch.long)
    train_ids, valid_ids = encode(train), encode(valid)

    model = CharModel(len(tokens), o.embedding, o.hidden, o.layers, o.cell, o.dropout)
    optimizer = torch.optim.Adam(model.parameters(), lr=o.lr)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda u: lr_factor(u, o.lr, o.warmup, o.decay_steps, min_lr))
    source = batchify(train_ids, o.batch)
    print(
        f"pytorch {torch.__version__} on {o.threads} thread(s): {len(train_ids)} training / {len(valid_ids)} validation characters, "
        f"vocabulary {len(tokens)}; {o.layers}x{o.hidden} {o.cell.upper()}, embedding {o.embedding}, batch {o.batch}x{o.seq_len}, "
        f"Adam {o.lr} (warm-up {o.warmup}), clip {o.clip}, dropout {o.dropout}",
        flush=True,
    )

    budget = o.minutes * 60
    elapsed, steps, epochs, chars_seen, last_line = 0.0, 0, 0, 0, 0.0
    while elapsed < budget:
        state = None  # each epoch starts from a zero state
        for inputs, targets in windows(source, o.seq_len):
            began = time.perf_counter()
            logits, state = model(inputs, state)
            loss = nn.functional.cross_entropy(logits.reshape(-1, logits.size(-1)), targets.reshape(-1))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), o.clip)
            optimizer.step()
            schedule.step()
            state = detach(state)
            value = loss.item()
            elapsed += time.perf_counter() - began
            steps += 1
            chars_seen += targets.numel()
            if not math.isfinite(value):
                sys.exit(f"char_rnn_torch: the loss became {value} at step {steps}")
            if elapsed - last_line >= 15:
                last_line = elapsed
                print(f"  step {steps}  loss {value / math.log(2):.3f} bits/char  {chars_seen / elapsed:.0f} char/s  {elapsed / 60:.1f} min", flush=True)
            if elapsed >= budget:
                break
        else:
            epochs += 1

    valid_bpc = bits_per_character(model, valid_ids, o.batch, o.seq_len)
    result = {
        "library": f"pytorch ({o.threads} thread{'' if o.threads == 1 else 's'})",
        "torch": torch.__version__,
        "threads": o.threads,
        "steps": steps,
        "epochs": epochs,
        "chars": chars_seen,
        "trainSeconds": elapsed,
        "charsPerSec": chars_seen / elapsed,
        "validBpc": valid_bpc,
        "vocab": len(tokens),
        "validChars": len(valid_ids),
    }
    print(f"trained {steps} steps, {chars_seen} characters, {elapsed / 60:.1f} min ({chars_seen / elapsed:.0f} char/s)")
    print(f"validation bits/char: {valid_bpc:.3f}")
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
