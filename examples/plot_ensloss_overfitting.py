"""
EnsLoss: fewer overfitting troubles from random calibrated losses
=================================================================

A deep MLP trained to zero training error overfits whatever fixed loss it
minimises. :class:`~skensemble.ensloss.EnsLossClassifier` draws a new random
*calibrated* loss-derivative for every mini-batch instead, so one run averages
over infinitely many convex, classification-calibrated losses. Here we train
the same five-block MLP with EnsLoss and with the fixed logistic, hinge and
exponential losses on scikit-learn's breast-cancer data, and follow train and
test accuracy epoch by epoch.
"""

# %%
# The data and one shared setup
# -----------------------------
# Every loss gets the same split, the same initial weights and the same batch
# orders (same ``random_state``); only the loss differs.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skensemble.ensloss import EnsLossClassifier

X, y = load_breast_cancer(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.3, random_state=0, stratify=y
)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

# %%
# What one random derivative looks like
# -------------------------------------
# For a batch of margins ``z = y f(x)`` the generator sorts negative
# log-normal draws, clips them at -1 and hands the most negative values to the
# smallest margins, so the derivative is non-decreasing (a convex loss) and
# negative at 0 (calibrated); above ``z = 1`` it decays like ``1/z`` (a loss
# bounded below). Three draws on the same 256 margins:
import torch

from skensemble.ensloss import draw_calibrated_derivatives

margins = torch.linspace(-2, 4, 256)
generator = torch.Generator().manual_seed(0)
fig, ax = plt.subplots(figsize=(6, 3.2))
for draw in range(3):
    g = draw_calibrated_derivatives(margins, generator=generator)
    ax.step(margins, g, where="post", label=f"draw {draw + 1}")
ax.plot(margins, -torch.sigmoid(-margins), "k--", label="logistic loss")
ax.set_xlabel("margin z")
ax.set_ylabel("phi'(z)")
ax.legend()
fig.tight_layout()

# %%
# Train and test accuracy after every epoch
# -----------------------------------------
# ``warm_start`` lets us stop after each epoch and read the accuracies; with
# ``lr_schedule="constant"`` the restarted schedule does not matter. A
# ``RandomState`` instance (not an int) gives every epoch new batch orders and
# new derivative draws, while every loss still starts from the same weights.
EPOCHS = 30
curves = {}
for loss in ["ensloss", "logistic", "hinge", "exponential"]:
    model = EnsLossClassifier(
        loss=loss,
        hidden_layer_sizes=(128,) * 5,
        learning_rate=1e-2,
        lr_schedule="constant",
        gradient_clipping=10.0 if loss == "exponential" else None,
        max_iter=1,
        warm_start=True,
        random_state=np.random.RandomState(0),
    )
    train, test = [], []
    for _ in range(EPOCHS):
        model.fit(X_train, y_train)
        train.append(model.score(X_train, y_train))
        test.append(model.score(X_test, y_test))
    curves[loss] = (train, test)

fig, ax = plt.subplots(figsize=(6, 3.6))
for color, (loss, (train, test)) in zip(["C3", "C0", "C1", "C2"], curves.items()):
    epochs = np.arange(1, EPOCHS + 1)
    ax.plot(epochs, train, color=color, ls="--", lw=1)
    ax.plot(epochs, test, color=color, lw=1.8, label=loss)
ax.set_xlabel("epoch")
ax.set_ylabel("accuracy (dashed: train)")
ax.legend()
fig.tight_layout()

for loss, (train, test) in curves.items():
    print(f"{loss:12s} train {train[-1]:.3f}  test {test[-1]:.3f}")

# %%
# Every loss reaches (nearly) 100 % training accuracy; what differs is the
# test accuracy once the data are interpolated. One split of a small data set
# is noisy: the benchmark (``docs/benchmarks/ensloss.md``) repeats this over
# seeds and real data sets with paired tests.
