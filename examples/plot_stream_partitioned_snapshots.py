"""
===============================================================
One DriftMoE per key partition, snapshotted and restarted
===============================================================

A stream model learns one instance after another, so one
:class:`~skensemble.stream.DriftMoEClassifier` cannot be trained by several
processes at once. Streams scale the way message queues do: the events are
partitioned by a key (a sensor, a region, a customer), each partition feeds
its own model, and the partitions can live in different processes or on
different machines.

Such a learner runs for weeks, so it must survive a restart. Here every
partition's consumer pickles its model together with its offset (the next
event it will read) every few hundred events. After a crash, each consumer
loads its last snapshot and re-reads the events from that offset on. The
example checks that the restarted models predict exactly what models that
never stopped predict.
"""

# %%
# A keyed event log
# -----------------
# Three regions, each with its own drifting SEA concept (three features, 10 %
# label noise). Events arrive interleaved, as in a single topic, and are
# split into one ordered partition per key, as a message broker would.
import pickle
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from river.datasets import synth

n_events = 9000
concepts = {"north": (0, 2), "south": (1, 3), "west": (3, 0)}
rng = np.random.default_rng(0)
keys = rng.choice(list(concepts), size=n_events, p=[0.5, 0.3, 0.2])

partitions = {}
for seed, (key, (before, after)) in enumerate(concepts.items()):
    n_key = int((keys == key).sum())
    stream = synth.ConceptDriftStream(
        synth.SEA(variant=before, noise=0.1, seed=seed),
        synth.SEA(variant=after, noise=0.1, seed=seed),
        position=n_key // 2,
        width=50,
        seed=seed,
    )
    rows = [([x[0], x[1], x[2]], int(y)) for x, y in stream.take(n_key)]
    partitions[key] = (
        np.array([row for row, _ in rows]),
        np.array([label for _, label in rows]),
    )
print({key: len(y) for key, (_, y) in partitions.items()})

# %%
# A partition consumer
# --------------------
# The consumer owns one model and one offset. It reads its partition in
# micro-batches, predicts each event before learning it (test-then-train), and
# writes ``(offset, model)`` to its snapshot file every ``snapshot_every``
# events. The file is written beside the old one and renamed over it, so a
# crash during the write never leaves a broken snapshot.
from skensemble.stream import DriftMoEClassifier


class PartitionConsumer:
    def __init__(self, key, snapshot_dir, snapshot_every=500):
        self.key = key
        self.path = Path(snapshot_dir) / f"{key}.pkl"
        self.snapshot_every = snapshot_every
        self.offset = 0
        self.model = DriftMoEClassifier(
            n_experts=6, router_hidden=(32,), router_batch_size=64, random_state=0
        )

    def consume(self, X, y, until, batch_size=100):
        """Read events ``offset .. until``; return their prequential predictions."""
        predictions = []
        while self.offset < until:
            stop = min(self.offset + batch_size, until)
            rows = slice(self.offset, stop)
            predictions.append(
                self.model.partial_fit_predict(X[rows], y[rows], classes=[0, 1])
            )
            self.offset = stop
            if self.offset % self.snapshot_every == 0:
                self.snapshot()
        return np.concatenate(predictions) if predictions else np.array([], int)

    def snapshot(self):
        partial = self.path.with_suffix(".tmp")
        partial.write_bytes(pickle.dumps((self.offset, self.model)))
        partial.replace(self.path)

    @classmethod
    def restore(cls, key, snapshot_dir):
        consumer = cls(key, snapshot_dir)
        consumer.offset, consumer.model = pickle.loads(consumer.path.read_bytes())
        return consumer


# %%
# A run that never stops, and one that crashes
# ---------------------------------------------
# The reference consumers read every partition to the end. The second set
# crashes at 62 % of each partition (between two snapshots: the events after
# the last snapshot are lost with the process), is restored from disk and
# resumes from the snapshot's offset, so the lost events are read again.
snapshot_dir = Path(tempfile.mkdtemp())
reference, restarted, crash_at, resumed_from = {}, {}, {}, {}
for key, (X, y) in partitions.items():
    reference[key] = PartitionConsumer(key, snapshot_dir / "reference")
    reference[key].path.parent.mkdir(exist_ok=True)
    reference_predictions = reference[key].consume(X, y, until=len(y))

    consumer = PartitionConsumer(key, snapshot_dir / "live")
    consumer.path.parent.mkdir(exist_ok=True)
    crash_at[key] = int(0.62 * len(y))
    before_crash = consumer.consume(X, y, until=crash_at[key])
    del consumer  # the process dies: the in-memory model is gone

    consumer = PartitionConsumer.restore(key, snapshot_dir / "live")
    resumed_from[key] = consumer.offset
    after_restart = consumer.consume(X, y, until=len(y))
    restarted[key] = consumer

    # Predictions from the restore point on, and the final models, agree.
    same_stream = np.array_equal(
        after_restart, reference_predictions[resumed_from[key] :]
    )
    same_model = np.array_equal(
        consumer.model.predict_proba(X), reference[key].model.predict_proba(X)
    )
    print(
        f"{key:>5}: crashed at {crash_at[key]}, resumed from {resumed_from[key]}, "
        f"replayed {crash_at[key] - resumed_from[key]} events; identical "
        f"predictions: {same_stream}, identical final model: {same_model}"
    )
    assert same_stream and same_model
    reference[key].predictions = reference_predictions
    restarted[key].predictions = np.concatenate(
        [before_crash[: resumed_from[key]], after_restart]
    )

# %%
# Prequential accuracy of every partition
# ---------------------------------------
# The restarted consumer's curve (dashed) lies on the uninterrupted one; the
# dotted line marks the restart and the grey band the concept drift.
fig, axes = plt.subplots(1, len(partitions), figsize=(11, 3.2), sharey=True)
window = 200
for ax, (key, (_, y)) in zip(axes, partitions.items()):
    for consumer, style, label in (
        (reference[key], "-", "never stopped"),
        (restarted[key], "--", "restored from snapshot"),
    ):
        hits = (consumer.predictions == y).astype(float)
        rolling = np.convolve(hits, np.ones(window) / window, mode="valid")
        ax.plot(np.arange(window, len(y) + 1), rolling, style, label=label)
    ax.axvline(resumed_from[key], color="k", linestyle=":", linewidth=1)
    ax.axvspan(len(y) // 2 - 25, len(y) // 2 + 25, color="0.85")
    ax.set_title(f"partition {key!r}")
    ax.set_xlabel("event in partition")
axes[0].set_ylabel(f"accuracy (last {window})")
axes[0].legend(loc="lower left")
fig.tight_layout()
plt.show()

# %%
# Going further
# -------------
# Each consumer only needs its own partition and its own snapshot file, so the
# consumers can run in separate processes (one per partition of a Kafka topic
# in a consumer group, or one ``dask.distributed`` task per key) with the
# snapshots on shared storage. Read-only replicas that serve predictions can
# load the latest snapshot while the single writer keeps learning. The one
# thing not to do is to let two processes learn into the same model.
