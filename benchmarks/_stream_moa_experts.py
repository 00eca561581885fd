"""Experiment (not shipped): DriftMoE-Data on Electricity with MOA's Hoeffding trees.

Our faithful DriftMoE-Data scores 80.87 on Electricity (river trees as experts)
against the paper's 83.76 (MOA trees through CapyMOA). This script puts MOA's
``HoeffdingTree`` (CapyMOA) behind a small river-compatible adapter and passes
it as ``expert=`` to our ``DriftMoEClassifier``, so that only the experts change.

Needs CapyMOA and Java, which the project does not depend on. Use a separate
virtual environment, e.g.::

    python3.11 -m venv /tmp/capy/venv
    /tmp/capy/venv/bin/pip install capymoa==0.10.0   # the paper's version
    # torch and river: from the project venv (a .pth file appending its
    # site-packages), or pip install -e . -c constraints.txt into that venv
    export JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64

Commands (repository root, ``PYTHONPATH=.``, that venv's python):

* ``single``: one Hoeffding tree, prequential on all 45,312 rows: CapyMOA's own
  evaluation loop (ARFF stream rebuilt from the shared CSV with elecNormNew's
  header: ``day`` nominal, ``class {UP,DOWN}``), the adapter in our loop (must
  equal it), and river's trees as our experts are configured; at CapyMOA's
  default confidence 1e-3 and at the paper's expert settings (1e-7, no memory
  stop).
* ``moe [raw|float32] [--n N] [--experts E] [--top-k K] SEEDS``:
  ``DriftMoEClassifier(router_dropout=0.0, random_state=seed,
  expert=MOAHoeffdingExpert(...))`` (12 experts, top 3 unless given).
  ``raw`` (default): the experts' votes are MOA's raw ``getVotesForInstance``
  values, as the paper's code uses them; ``float32``: also cast to float32 like
  the paper's ``torch.tensor(..., dtype=torch.float32)``. ``matched`` (implies
  float32):
  the router's torch seed is the seed itself, as the paper's code seeds
  ``torch.manual_seed(seed)`` right before building its router; our router then
  starts from the same weights as the paper code's run with that seed (same
  layer order and initialisation), for a run-by-run comparison with
  runs of the paper's code with the same seed. ``river [moa_nb]``: the same
  runs with our default river experts (``naive_bayes="river"`` or ``"moa"``)
  instead of MOA's, for a paired comparison (with ``matched``: same router
  start per seed).
"""

import sys
import time

sys.path.insert(0, "benchmarks")
import gzip
import tempfile
from pathlib import Path

import numpy as np
from river import base
from stream import nominal_columns, real_stream

from skensemble.stream import DriftMoEClassifier, prequential_score
from skensemble.stream._experts import default_expert

DATA = "/work/shared/data"
CSV = Path(DATA) / "electricity_elec2.csv.gz"
CLASS_LABELS = ["UP", "DOWN"]  # elecNormNew's order: UP is index 0
DAY_VALUES = [str(day) for day in range(1, 8)]

_SCHEMAS = {}
_LAST_INSTANCE = {}


def _schema(feature_names, nominal_values, class_labels):
    """One CapyMOA schema per configuration, shared by every adapter."""
    from capymoa.stream import Schema

    key = (
        tuple(feature_names),
        tuple((k, tuple(v)) for k, v in sorted(nominal_values.items())),
        tuple(class_labels),
    )
    if key not in _SCHEMAS:
        _SCHEMAS[key] = Schema.from_custom(
            feature_names=list(feature_names),
            values_for_nominal_features={k: list(v) for k, v in nominal_values.items()},
            values_for_class_label=list(class_labels),
            dataset_name="elecNormNew",
            target_attribute_name="class",
        )
    return _SCHEMAS[key]


def _instance(schema, x, label):
    """A CapyMOA labelled instance for ``x``; reused while x and the label repeat.

    MOA ignores the class value when voting, so predictions use the same
    instance with label 0 unless one was given.
    """
    from capymoa.instance import LabeledInstance

    values = tuple(x.values())
    key = (id(schema), values, label)
    if _LAST_INSTANCE.get("key") != key:
        _LAST_INSTANCE["key"] = key
        _LAST_INSTANCE["instance"] = LabeledInstance.from_array(
            schema, np.array(values, dtype=np.float64), label
        )
    return _LAST_INSTANCE["instance"]


class MOAHoeffdingExpert(base.Classifier):
    """MOA's Hoeffding tree (CapyMOA) with river's ``learn_one``/``predict_proba_one``.

    Features arrive as river dicts in schema order; nominal features carry
    their value index (as MOA stores them). Labels are class indices.
    ``predict_proba_one`` returns MOA's votes as they are (an untrained tree
    votes zeros; naive-Bayes votes are unnormalised), optionally cast to
    float32 as the paper's code does.
    """

    def __init__(
        self,
        feature_names,
        nominal_values,
        class_labels,
        grace_period=50,
        confidence=1e-7,
        binary_split=False,
        stop_mem_management=False,
        votes="raw",
    ):
        from capymoa.classifier import HoeffdingTree

        self.feature_names = feature_names
        self.nominal_values = nominal_values
        self.class_labels = class_labels
        self.grace_period = grace_period
        self.confidence = confidence
        self.binary_split = binary_split
        self.stop_mem_management = stop_mem_management
        self.votes = votes
        self._schema_ = _schema(feature_names, nominal_values, class_labels)
        self._tree = HoeffdingTree(
            schema=self._schema_,
            grace_period=grace_period,
            confidence=confidence,
            binary_split=binary_split,
            stop_mem_management=stop_mem_management,
        )

    def learn_one(self, x, y):
        self._tree.train(_instance(self._schema_, x, int(y)))

    def predict_proba_one(self, x):
        votes = self._tree.predict_proba(_instance(self._schema_, x, 0))
        values = [float(v) for v in votes]
        if self.votes == "float32":
            values = np.asarray(values, dtype=np.float32).astype(np.float64).tolist()
        return dict(enumerate(values))

    def predict_one(self, x):
        proba = self.predict_proba_one(x)
        return int(
            np.argmax([proba.get(c, 0.0) for c in range(len(self.class_labels))])
        )

    def clone(self, new_params=None, include_attributes=False):
        return MOAHoeffdingExpert(**{**self._get_params(), **(new_params or {})})


def electricity_header():
    with gzip.open(CSV, "rt") as handle:
        return handle.readline().strip().split(",")[:-1]


def expert_template(votes="raw", **options):
    names = electricity_header()
    return MOAHoeffdingExpert(
        names, {"day": DAY_VALUES}, CLASS_LABELS, votes=votes, **options
    )


def write_arff(path):
    """elecNormNew.arff rebuilt from the shared CSV (values copied as text)."""
    with gzip.open(CSV, "rt") as handle:
        header = handle.readline().strip().split(",")
        lines = ["@relation elecNormNew", ""]
        for name in header[:-1]:
            kind = "{" + ",".join(DAY_VALUES) + "}" if name == "day" else "numeric"
            lines.append(f"@attribute {name} {kind}")
        lines += ["@attribute class {UP,DOWN}", "", "@data"]
        for row in handle:
            fields = row.strip().split(",")
            label = "UP" if fields[-1] == "1" else "DOWN"
            lines.append(",".join([*fields[:-1], label]))
    Path(path).write_text("\n".join(lines) + "\n")


def our_loop(model, X, y):
    correct = 0
    keys = range(X.shape[1])
    for row, label in zip(X.tolist(), y.tolist()):
        x = dict(zip(keys, row))
        proba = model.predict_proba_one(x)
        votes = [proba.get(c, 0.0) for c in range(2)]
        correct += int(np.argmax(votes)) == label  # ties/untrained -> 0 (UP)
        model.learn_one(x, label)
    return 100 * correct / len(y)


def single():
    from capymoa.classifier import HoeffdingTree
    from capymoa.evaluation import prequential_evaluation
    from capymoa.stream import ARFFStream

    X, y, _ = real_stream("Electricity", None, DATA)
    nominal = nominal_columns("Electricity", DATA)
    arff = Path(tempfile.mkdtemp()) / "elecNormNew.arff"
    write_arff(arff)
    settings = {
        "capymoa defaults, grace 50 (confidence 1e-3, memory stop on)": dict(
            grace_period=50
        ),
        "paper expert (grace 50, confidence 1e-7, no memory stop)": dict(
            grace_period=50, confidence=1e-7, stop_mem_management=False
        ),
    }
    for title, options in settings.items():
        print(f"== {title}")
        stream = ARFFStream(path=str(arff))
        start = time.perf_counter()
        result = prequential_evaluation(
            stream,
            HoeffdingTree(schema=stream.get_schema(), **options),
            window_size=4500,
        )
        print(
            f"  CapyMOA prequential_evaluation   {result.cumulative.accuracy():.4f}"
            f"  ({time.perf_counter() - start:.1f} s)"
        )
        adapter_options = {"confidence": 1e-3, "stop_mem_management": True, **options}
        start = time.perf_counter()
        accuracy = our_loop(expert_template(**adapter_options), X, y)
        print(
            f"  adapter in our loop              {accuracy:.4f}"
            f"  ({time.perf_counter() - start:.1f} s)"
        )
        delta = adapter_options["confidence"]
        for naive_bayes in ("river", "moa"):
            tree = default_expert(50, delta, "nba", nominal, naive_bayes=naive_bayes)
            accuracy = our_loop(tree, X, y)
            print(f"  river tree, naive_bayes={naive_bayes:5s}   {accuracy:.4f}")


def moe(argv):
    matched = "matched" in argv
    votes = "float32" if "float32" in argv or matched else "raw"
    sizes = {"--n": None, "--experts": 12, "--top-k": 3}
    for flag in sizes:
        if flag in argv:
            at = argv.index(flag)
            sizes[flag] = int(argv[at + 1])
            argv = argv[:at] + argv[at + 2 :]
    n = sizes["--n"]
    seeds = [int(a) for a in argv if a.isdigit()] or [0]
    X, y, _ = real_stream("Electricity", n, DATA)
    experts = f"MOA votes={votes}"
    options = {"expert": expert_template(votes)}
    if "river" in argv:
        experts = "river naive_bayes=" + ("moa" if "moa_nb" in argv else "river")
        options = {
            "nominal_features": nominal_columns("Electricity", DATA),
            "naive_bayes": "moa" if "moa_nb" in argv else "river",
        }
    for seed in seeds:
        if matched:  # both draws (router seed, expert seed) give the seed itself
            import skensemble.stream._driftmoe as driftmoe_module

            driftmoe_module.draw_seed = lambda random_state, seed=seed: seed
        model = DriftMoEClassifier(
            router_dropout=0.0,
            random_state=seed,
            n_experts=sizes["--experts"],
            top_k=sizes["--top-k"],
            **options,
        )
        start = time.perf_counter()
        result = prequential_score(model, X, y, window=max(100, len(y) // 50))
        seconds = time.perf_counter() - start
        # The paper's code prints and logs the cumulative accuracy at every
        # 5,000th instance; their mean is reported beside the final accuracy.
        correct = np.asarray(result.y_pred) == y
        logged = [correct[:t].mean() for t in range(5000, len(y) + 1, 5000)]
        print(
            f"experts={experts} n_experts={sizes['--experts']} "
            f"top_k={sizes['--top-k']} matched={matched} seed={seed} "
            f"n={len(y)} accuracy={100 * result.accuracy:.4f} "
            f"kappa_m={100 * result.kappa_m:.2f} kappa_t={100 * result.kappa_t:.2f} "
            f"mean_of_5000_steps={100 * np.mean(logged):.2f} "
            f"fallbacks={model.n_mask_fallbacks_} "
            f"learn_counts={model.expert_learn_counts_.tolist()} "
            f"({seconds:.0f} s, {len(y) / seconds:.0f} inst/s)",
            flush=True,
        )


if __name__ == "__main__":
    if sys.argv[1:2] == ["single"]:
        single()
    elif sys.argv[1:2] == ["moe"]:
        moe(sys.argv[2:])
    else:
        sys.exit(__doc__)
