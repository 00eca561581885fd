"""Experiment (not shipped): the paper's MoE-Task prediction path as a bare online MLP.

In the paper's ``train_joint_task`` the router alone predicts (argmax of its
logits, router left in training mode so dropout 0.2 acts at prediction too) and
takes one Adam step (lr 2e-3) per instance on BCE-with-logits against the
one-hot label; the binary experts never influence a prediction (the mask is
always the one-hot label). So the paper's MoE-Task accuracy on Electricity
(68.73 +- 0.85 over 10 seeds) depends only on the router input and the MLP,
which makes it a tree-free check of our input pipeline (the same raw vector
feeds MoE-Data's router). Written from that description; no code copied.

Variants (argv): ``day1`` feeds day as 1..7 (default 0..6, MOA's value
index); ``ourlabels`` keeps DOWN=0 (default MOA's UP=0; irrelevant here except
for argmax ties); numbers are seeds (default 0 1 2).
Usage (repository root): ``PYTHONPATH=. python benchmarks/_stream_task_mlp.py 0 1 2``.
"""

import sys
import time

sys.path.insert(0, "benchmarks")
import torch
from stream import real_stream
from torch import nn

torch.set_num_threads(1)
args = [a for a in sys.argv[1:] if not a.isdigit()]
seeds = [int(a) for a in sys.argv[1:] if a.isdigit()] or [0, 1, 2]
X, y, _ = real_stream("Electricity", None, "/work/shared/data")  # day 0..6
if "day1" in args:
    X[:, 1] += 1
if "ourlabels" in args:  # real_stream gives MOA's indices (UP=0)
    y = 1 - y
inputs = torch.tensor(X, dtype=torch.float32)
labels = torch.tensor(y)
targets = torch.nn.functional.one_hot(labels, 2).float()

for seed in seeds:
    torch.manual_seed(seed)
    layers = [
        nn.Linear(8, 256),
        nn.ReLU(),
        nn.Dropout(0.2),
        nn.Linear(256, 128),
        nn.ReLU(),
        nn.Linear(128, 2),
    ]
    net = nn.Sequential(*layers)
    for module in net:
        if isinstance(module, nn.Linear):
            nn.init.xavier_uniform_(module.weight)
            nn.init.zeros_(module.bias)
    net.train()
    optimizer = torch.optim.Adam(net.parameters(), lr=2e-3)
    loss_fn = nn.BCEWithLogitsLoss()
    correct = 0
    start = time.perf_counter()
    for i in range(len(y)):
        logits = net(inputs[i : i + 1])
        correct += int(torch.argmax(logits).item() == labels[i].item())
        loss = loss_fn(logits, targets[i : i + 1])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    print(
        "variants",
        sorted(args),
        "seed",
        seed,
        f"acc {100 * correct / len(y):.2f}",
        f"{time.perf_counter() - start:.0f} s",
        flush=True,
    )
