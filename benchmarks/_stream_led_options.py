"""Experiment: which of DriftMoE-Data's options costs accuracy on LED.

The options row (standardised router input, soft mixing, ADWIN expert resets)
loses about 14 points to the paper row on LEDa/LEDg at 100,000 instances. This
adds the options one at a time to the paper configuration on LEDa.
Usage (repository root):
``PYTHONPATH=. python benchmarks/_stream_led_options.py 30000``.
"""

import sys

sys.path.insert(0, "benchmarks")
from river import drift
from stream import synthetic_stream

from skensemble.stream import DriftMoEClassifier, prequential_score

n = int(sys.argv[1])
X, y, _ = synthetic_stream("LEDa", n, 1)  # the benchmark's seed-0 stream
variants = {
    "paper": {},
    "+standardize": {"standardize": True},
    "+soft": {"mixing": "soft"},
    "+ADWIN": {"drift_detector": drift.ADWIN()},
    "+standardize+soft": {"standardize": True, "mixing": "soft"},
}
for name, options in variants.items():
    m = DriftMoEClassifier(router_dropout=0.0, random_state=0, **options)
    r = prequential_score(m, X, y)
    print(f"LEDa {n} {name:20s} acc {100 * r.accuracy:.2f}", flush=True)
