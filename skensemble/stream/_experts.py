"""The pool of incremental river experts and the matrix of their probabilities."""

import inspect

import numpy as np
from river import tree

from ._moa_tree import MOAHoeffdingTreeClassifier


def default_expert(
    grace_period,
    delta,
    leaf_prediction,
    nominal_attributes=None,
    naive_bayes="river",
):
    """The paper's expert: a plain Hoeffding tree (CapyMOA settings in river terms).

    ``max_share_to_split=1.0`` switches off a rule MOA does not have: at a split
    attempt, river treats a leaf whose majority class exceeds
    ``max_share_to_split`` (default 0.99) as a pre-pruned leaf, deactivates it
    and, through its memory manager, reactivates it with empty attribute
    observers, so that leaf's naive-Bayes statistics start over.
    ``naive_bayes="moa"`` gives the leaves MOA's naive-Bayes rules
    (``_moa_tree.MOAHoeffdingTreeClassifier``).
    """
    kind = tree.HoeffdingTreeClassifier
    if naive_bayes == "moa":
        kind = MOAHoeffdingTreeClassifier
    return kind(
        max_share_to_split=1.0,
        nominal_attributes=nominal_attributes,
        grace_period=grace_period,
        delta=delta,
        tau=0.05,
        leaf_prediction=leaf_prediction,
        split_criterion="info_gain",
        merit_preprune=False,
        max_size=32.0,
    )


def expert_template(
    expert, grace_period, delta, leaf_prediction, nominal_features, naive_bayes
):
    """The template every expert is cloned from: ``expert`` or the default tree.

    ``nominal_features`` and ``naive_bayes`` configure the default tree only, so
    setting them beside a user's template is an error.
    """
    if expert is None:
        nominal = None
        if nominal_features is not None:
            nominal = list(np.asarray(nominal_features).tolist())
        return default_expert(
            grace_period, delta, leaf_prediction, nominal, naive_bayes
        )
    if nominal_features is not None:
        raise ValueError(
            "nominal_features applies to the default experts only; set "
            "nominal_attributes on the expert template instead."
        )
    if naive_bayes != "river":
        raise ValueError(
            f"naive_bayes={naive_bayes!r} applies to the default experts "
            "only; pass an expert template with the leaves you want instead."
        )
    return expert


def fresh_copy(template, seed):
    """An untrained clone of a river estimator, reseeded when it takes a seed."""
    if "seed" in template._get_params():
        return template.clone(new_params={"seed": seed})
    return template.clone()


def expert_probabilities(expert, x, row, fast_path):
    """``expert.predict_proba_one(x)``, through the exact fast path when given."""
    if fast_path is None:
        return expert.predict_proba_one(x)
    return fast_path.predict_proba_one(expert, x, row)


def expert_learn(expert, x, label, row, fast_path, weight=1.0):
    """``expert.learn_one(x, label[, w=weight])``, through the fast path when given.

    ``w`` is passed only for weights other than 1, so a template whose
    ``learn_one`` takes no weight still serves unweighted streams.
    """
    if fast_path is not None:
        fast_path.learn_one(expert, x, label, row, w=weight)
    elif weight == 1.0:
        expert.learn_one(x, label)
    else:
        expert.learn_one(x, label, w=weight)


def takes_weight(template):
    """Whether the template's ``learn_one`` names a ``w`` (instance weight) argument."""
    return "w" in inspect.signature(template.learn_one).parameters


def fill_class_probabilities(experts, x, out, row=None, fast_path=None):
    """Write every expert's class probabilities for ``x`` into row ``i`` of ``out``.

    Experts learn integer class codes; classes an expert has not seen get 0. An
    expert that has learnt nothing returns ``{}`` and gets the zero vector, as
    in the paper's code: an untrained MOA Hoeffding tree votes
    ``new double[numClasses]`` (CapyMOA passes it through), so such an expert
    predicts class 0 and never wins the mask's fallback to the expert most
    confident in the true class. ``row`` holds the values of ``x`` as floats
    for ``fast_path``.
    """
    for target, expert in zip(out, experts):
        probabilities = expert_probabilities(expert, x, row, fast_path)
        target.fill(0.0)
        for code, probability in probabilities.items():
            target[code] = probability


def fill_positive_probabilities(experts, x, out, row=None, fast_path=None):
    """Write each binary (one-vs-rest) expert's probability of ``True`` into ``out``."""
    for index, expert in enumerate(experts):
        probabilities = expert_probabilities(expert, x, row, fast_path)
        out[index] = probabilities.get(True, 0.0) if probabilities else 0.5
