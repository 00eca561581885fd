"""``skensemble train``: fit a torch estimator from a data file and a small config.

The same command runs in one process or under ``torchrun``: when ``torchrun``
has set ``WORLD_SIZE`` above 1 the command opens the process group itself
(nccl with GPUs, gloo otherwise), every rank reads the whole file and trains its
shard of every batch, and rank 0 writes the model and the summary.

Config (JSON, or TOML by the ``.toml`` suffix); relative paths are relative to
the config file::

    {
      "estimator": "TabMRegressor",
      "params": {"k": 16, "max_iter": 200, "random_state": 0},
      "data": "train.csv",
      "target": "price",
      "categorical": ["cut", "color"],
      "output": "model.pkl",
      "summary": "summary.json",
      "backend": "gloo"
    }

``categorical``, ``summary`` and ``backend`` are optional.
"""

import datetime
import json
import os
import pickle
import time
from pathlib import Path

ESTIMATORS = {
    "TabMRegressor": "skensemble.tabm",
    "TabMClassifier": "skensemble.tabm",
    "EnsLossClassifier": "skensemble.ensloss",
}
KEYS = {"estimator", "params", "data", "target", "categorical", "output"}
KEYS |= {"summary", "backend"}
REQUIRED = ("estimator", "data", "target", "output")


def load_config(path):
    """The config dict of a JSON or TOML file, checked, with absolute paths."""
    path = Path(path)
    try:
        if path.suffix == ".toml":
            config = _load_toml(path)
        else:
            with open(path) as file:
                config = json.load(file)
    except ValueError as error:  # JSONDecodeError and TOMLDecodeError
        kind = "TOML" if path.suffix == ".toml" else "JSON"
        raise ValueError(f"{path}: not valid {kind}: {error}.") from error
    if not isinstance(config, dict):
        raise ValueError(f"{path}: the config must be a JSON object / TOML table.")
    if not isinstance(config.get("params", {}), dict):
        raise ValueError(f"{path}: params must be a JSON object / TOML table.")
    unknown = sorted(set(config) - KEYS)
    if unknown:
        raise ValueError(f"{path}: unknown keys {unknown}; allowed: {sorted(KEYS)}.")
    missing = [key for key in REQUIRED if key not in config]
    if missing:
        raise ValueError(f"{path}: missing keys {missing}.")
    if config["estimator"] not in ESTIMATORS:
        raise ValueError(
            f"{path}: estimator must be one of {sorted(ESTIMATORS)}; "
            f"got {config['estimator']!r}."
        )
    for key in ("data", "output", "summary"):
        if config.get(key) is not None:
            config[key] = str((path.parent / config[key]).resolve())
    return config


def _load_toml(path):
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        try:
            import tomli as tomllib
        except ModuleNotFoundError:
            raise ImportError(
                "TOML configs need Python >= 3.11 or the tomli package "
                "(pip install tomli); or write the config as JSON."
            ) from None
    with open(path, "rb") as file:
        return tomllib.load(file)


def read_table(path):
    """A pandas DataFrame from a CSV (also .csv.gz) or Parquet file."""
    try:
        import pandas as pd
    except ModuleNotFoundError:
        raise ImportError(
            "skensemble train reads data with pandas: pip install pandas "
            "(or pip install 'skensemble[train]')."
        ) from None
    if Path(path).suffix in (".parquet", ".pq"):
        try:
            import pyarrow  # noqa: F401
        except ModuleNotFoundError:
            raise ImportError(
                f"Reading the Parquet file {path} needs pyarrow, which is not "
                "installed: pip install pyarrow (or pip install "
                "'skensemble[train]'), or convert the file to CSV."
            ) from None
        return pd.read_parquet(path)
    return pd.read_csv(path)


def make_estimator(config, X):
    """The unfitted estimator of the config, categorical columns checked."""
    import importlib

    module = importlib.import_module(ESTIMATORS[config["estimator"]])
    params = dict(config.get("params") or {})
    categorical = config.get("categorical")
    non_numeric = [c for c, kind in X.dtypes.items() if kind.kind not in "biuf"]
    if config["estimator"] == "EnsLossClassifier":
        if categorical or non_numeric:
            raise ValueError(
                "EnsLossClassifier takes numeric features only; encode the "
                f"columns {sorted(set(categorical or []) | set(non_numeric))} first."
            )
    elif categorical is not None:
        unknown = sorted(set(categorical) - set(X.columns))
        if unknown:
            raise ValueError(f"categorical names columns not in the data: {unknown}.")
        params["categorical_features"] = list(categorical)
    return getattr(module, config["estimator"])(**params)


def _init_process_group(backend):
    """Open the group torchrun asked for; return whether this call opened it."""
    import torch
    from torch import distributed as dist

    if int(os.environ.get("WORLD_SIZE", "1")) <= 1 or dist.is_initialized():
        return False
    if backend is None:
        backend = "nccl" if torch.cuda.is_available() else "gloo"
    if backend == "nccl":
        local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        torch.cuda.set_device(local_rank % torch.cuda.device_count())
    dist.init_process_group(backend, timeout=datetime.timedelta(minutes=30))
    return True


def prepare(config_path, data=None, output=None):
    """Everything the user gave, checked before any training starts.

    Returns ``(config, X, y, estimator)``; a bad config, a missing file or
    column, or a bad estimator parameter raises here, so the command can report
    it in one line (the errors of a started fit keep their traceback).
    """
    config = load_config(config_path)
    if data is not None:
        config["data"] = str(Path(data).resolve())
    if output is not None:
        config["output"] = str(Path(output).resolve())
    table = read_table(config["data"])
    if config["target"] not in table.columns:
        raise ValueError(
            f"target column {config['target']!r} is not in {config['data']}; "
            f"columns: {list(table.columns)}."
        )
    y = table[config["target"]].to_numpy()
    X = table.drop(columns=config["target"])
    estimator = make_estimator(config, X)
    estimator._validate_params()
    if config["estimator"] == "EnsLossClassifier":
        X = X.to_numpy()
    return config, X, y, estimator


def train(config, X, y, estimator):
    """Fit the prepared estimator (sharded under torchrun), write model and summary.

    Returns the summary dict, on every rank.
    """
    from . import _distributed as distributed

    opened = _init_process_group(config.get("backend"))
    try:
        rank, world_size = distributed.rank_and_world_size()
        start = time.perf_counter()
        estimator.fit(X, y)
        seconds = time.perf_counter() - start
        summary = {
            "estimator": config["estimator"],
            "data": config["data"],
            "rows": int(len(y)),
            "features": int(X.shape[1]),
            "world_size": world_size,
            "device": str(estimator.device_),
            "epochs": int(estimator.n_iter_),
            "best_validation_score": getattr(estimator, "best_validation_score_", None),
            "fit_seconds": round(seconds, 3),
            "training_score": float(estimator.score(X, y)),
            "output": config["output"],
        }
        if rank == 0:
            _write(estimator, summary, config)
        if world_size > 1:
            from torch import distributed as dist

            dist.barrier()
    finally:
        if opened:
            from torch import distributed as dist

            dist.destroy_process_group()
    return summary


def _write(estimator, summary, config):
    output = Path(config["output"])
    output.parent.mkdir(parents=True, exist_ok=True)
    with open(output, "wb") as file:
        pickle.dump(estimator, file)
    if config.get("summary"):
        Path(config["summary"]).parent.mkdir(parents=True, exist_ok=True)
        with open(config["summary"], "w") as file:
            json.dump(summary, file, indent=2)
    width = max(len(key) for key in summary)
    for key, value in summary.items():
        print(f"{key:<{width}}  {value}")
