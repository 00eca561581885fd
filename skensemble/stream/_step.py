"""The per-instance DriftMoE step: test (predict) and train, shared by both faces."""

from dataclasses import dataclass

import numpy as np

from ._experts import (
    expert_learn,
    fill_class_probabilities,
    fill_positive_probabilities,
    fresh_copy,
)


@dataclass
class _TestStep:
    """What the test step computed for one instance, reused by its train step."""

    row: np.ndarray
    router_input: np.ndarray
    expert_probabilities: np.ndarray
    top_experts: np.ndarray
    probabilities: np.ndarray


def _softmax(values):
    exponentials = np.exp(values - values.max())
    return exponentials / exponentials.sum()


class _MixtureStepMixin:
    """Test-then-train on one instance; ``DriftMoEClassifier`` holds the state."""

    def _learn_rows(self, X, codes, predicted_codes=None, sample_weight=None):
        try:
            self._learn_each_row(X, codes, predicted_codes, sample_weight)
        finally:
            self._flush_experts()

    def _learn_each_row(self, X, codes, predicted_codes, sample_weight):
        report_every = max(1, len(X) // 10)
        for index, row in enumerate(X):
            features = dict(zip(self._feature_keys, row.tolist()))
            step = self._test(features, row)
            if predicted_codes is not None:
                predicted_codes[index] = np.argmax(step.probabilities)
            weight = 1.0 if sample_weight is None else float(sample_weight[index])
            self._train(features, step, codes[index], weight)
            if self.verbose > 0 and (index + 1) % report_every == 0:
                print(
                    f"[DriftMoE] {index + 1}/{len(X)} instances, "
                    f"{self.n_router_steps_} router steps, "
                    f"last router loss {self.router_.last_loss}",
                    flush=True,
                )

    def _flush_experts(self):
        """Bring the river experts up to date with the fast path's arrays."""
        if self._fast_path is not None:
            self._fast_path.flush()

    def _test(self, x, row):
        """Predict one instance; nothing is learnt."""
        router_input = row
        if self._standardizer is not None:
            router_input = self._standardizer.transform(row)
        router_input = router_input.astype(np.float32)
        scores = self.router_.scores(router_input)
        n_experts = len(self.experts_)
        if self.mode == "task":
            positive = np.empty(n_experts)
            fill_positive_probabilities(
                self.experts_, x, positive, row, self._fast_path
            )
            votes = 1.0 / (1.0 + np.exp(-scores.astype(np.float64)))
            if self.task_prediction == "product":
                votes = votes * positive
            total = votes.sum()
            probabilities = (
                votes / total if total > 0 else np.full(n_experts, 1 / n_experts)
            )
            return _TestStep(row, router_input, positive, None, probabilities)
        expert_probabilities = np.empty((n_experts, len(self.classes_)))
        fill_class_probabilities(
            self.experts_, x, expert_probabilities, row, self._fast_path
        )
        top_experts = np.argsort(-scores, kind="stable")[: self.top_k]
        if self.mixing == "hard":
            probabilities = expert_probabilities[top_experts[0]]
        else:
            weights = _softmax(scores[top_experts].astype(np.float64))
            probabilities = weights @ expert_probabilities[top_experts]
        total = probabilities.sum()
        if total > 0:
            probabilities = probabilities / total
        else:
            probabilities = np.full(len(self.classes_), 1 / len(self.classes_))
        return _TestStep(
            row, router_input, expert_probabilities, top_experts, probabilities
        )

    def _train(self, x, step, code, weight=1.0):
        """Learn one instance from the outcome of its test step.

        ``weight`` scales the instance in the router's loss, the experts'
        statistics and the standardiser; a weight of 0 learns nothing at all,
        exactly as if the instance had not been in the stream.
        """
        if weight == 0.0:
            return
        if self.mode == "task":
            target = np.zeros(len(self.experts_), dtype=np.float32)
            target[code] = 1.0
            learners = range(len(self.experts_))
            labels = [index == code for index in learners]
            errors = [
                (p > 0.5) != label
                for p, label in zip(step.expert_probabilities, labels)
            ]
        else:
            expert_correct = step.expert_probabilities.argmax(axis=1) == code
            target = expert_correct.astype(np.float32)
            if not expert_correct.any():
                target[np.argmax(step.expert_probabilities[:, code])] = 1.0
                self.n_mask_fallbacks_ += 1
            learners = step.top_experts
            labels = [code] * len(learners)
            errors = [not expert_correct[index] for index in learners]
        self.router_.record(step.router_input, target, weight)
        self.n_router_steps_ = self.router_.n_steps
        for index, label, error in zip(learners, labels, errors):
            expert_learn(
                self.experts_[index], x, label, step.row, self._fast_path, weight
            )
            self.expert_learn_counts_[index] += 1
            if self._detectors is not None:
                self._watch_expert(index, error)
        if self._standardizer is not None:
            self._standardizer.update(step.row, weight)
        self.n_instances_seen_ += 1

    def _watch_expert(self, index, error):
        detector = self._detectors[index]
        detector.update(float(error))
        if detector.drift_detected:
            self.experts_[index] = fresh_copy(
                self._expert_template,
                self._expert_seed + len(self.experts_) + self.n_expert_resets_,
            )
            self._detectors[index] = self.drift_detector.clone()
            self.n_expert_resets_ += 1
