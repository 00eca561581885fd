"""The pool of incremental river experts and the matrix of their probabilities."""

from river import tree


def default_expert(grace_period, delta, leaf_prediction):
    """The paper's expert: a plain Hoeffding tree (CapyMOA settings in river terms)."""
    return tree.HoeffdingTreeClassifier(
        grace_period=grace_period,
        delta=delta,
        tau=0.05,
        leaf_prediction=leaf_prediction,
        split_criterion="info_gain",
        merit_preprune=False,
        max_size=32.0,
    )


def fresh_copy(template, seed):
    """An untrained clone of a river estimator, reseeded when it takes a seed."""
    if "seed" in template._get_params():
        return template.clone(new_params={"seed": seed})
    return template.clone()


def fill_class_probabilities(experts, x, out):
    """Write every expert's class probabilities for ``x`` into row ``i`` of ``out``.

    Experts learn integer class codes. An expert that has learnt nothing returns
    ``{}`` and gets the uniform distribution; classes it has not seen get 0.
    """
    n_classes = out.shape[1]
    for row, expert in zip(out, experts):
        probabilities = expert.predict_proba_one(x)
        if probabilities:
            row.fill(0.0)
            for code, probability in probabilities.items():
                row[code] = probability
        else:
            row.fill(1.0 / n_classes)


def fill_positive_probabilities(experts, x, out):
    """Write each binary (one-vs-rest) expert's probability of ``True`` into ``out``."""
    for index, expert in enumerate(experts):
        probabilities = expert.predict_proba_one(x)
        out[index] = probabilities.get(True, 0.0) if probabilities else 0.5
