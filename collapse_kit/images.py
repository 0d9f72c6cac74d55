"""Images in the generational loop: a small VAE retrained on its own digits.

Data: scikit-learn's bundled 8×8 handwritten digits (1,797 images, no
download), scaled to [0, 1] and flattened to 64 pixels. :func:`load_digits`
can make the real set deliberately *imbalanced* so that minority digits are
visible: digit ``c`` keeps a fraction ``imbalance ** (c / 9)`` of its images,
so 0 keeps all of them and 9 keeps a fraction ``imbalance``.

Model: :class:`DigitVAE`, a small variational auto-encoder in PyTorch (two
hidden layers of 128 units, a ``latent_dim``-dimensional Gaussian latent, a
sigmoid decoder trained with binary cross-entropy on the grey levels). It
follows the loop protocol (``fit(data, rng)`` / ``sample(n, rng)``); a sample is
the decoder's mean image for a latent drawn from N(0, I).

Measurements, each generation:

* **class mix** — a classifier trained once on *all* real digits
  (:func:`train_classifier`, logistic regression) labels the generated
  images; :func:`class_shares` gives the share of each digit;
* **latent spread** — :func:`latent_spread`: the generated images are encoded
  by the *generation-0* VAE's encoder (posterior means μ₀(x) ∈ R^d); the spread
  is the standard deviation of μ₀(x) across the images, averaged over the d
  latent dimensions: ``mean_j std_i μ₀(x_i)_j``. A collapsing model's images
  crowd into a smaller region of the original latent space, so the spread
  falls.

This module imports torch; lessons 00–02 never import it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd

from ._validate import check_array, check_choice, check_float, check_int, check_seed

N_CLASSES = 10
IMAGE_SHAPE = (8, 8)


# --------------------------------------------------------------------------- data
def class_fractions(imbalance: float) -> np.ndarray:
    """Fraction of each digit's images kept: ``imbalance ** (c / 9)`` for c = 0..9.

    ``imbalance`` must be in (0, 1]; 1 keeps every image (the balanced set).
    """
    r = check_float("imbalance", imbalance, low=0.0, high=1.0, low_open=True)
    return r ** (np.arange(N_CLASSES) / (N_CLASSES - 1))


def load_digits(imbalance: float = 1.0, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The 8×8 digits as ``(images, labels)``: images (n, 64) in [0, 1], labels (n,).

    Parameters
    ----------
    imbalance : float in (0, 1]
        Digit ``c`` keeps a random fraction ``imbalance ** (c / 9)`` of its images
        (1 = all 1,797 images). With 0.1, digit 0 keeps all ~180 and digit 9 ~18.
    seed : int
        Which images are kept.
    """
    from sklearn.datasets import load_digits as _load

    keep = class_fractions(imbalance)
    rng = np.random.default_rng(check_seed("seed", seed))
    d = _load()
    x = (d.data / 16.0).astype(np.float32)
    y = d.target.astype(np.int64)
    idx = []
    for c in range(N_CLASSES):
        members = np.flatnonzero(y == c)
        n_keep = max(1, int(round(keep[c] * members.size)))
        idx.append(np.sort(rng.choice(members, size=n_keep, replace=False)))
    idx = np.concatenate(idx)
    return x[idx], y[idx]


# --------------------------------------------------------------------------- the classifier (judge)
def train_classifier(seed: int = 0):
    """A digit classifier trained once on all 1,797 real images (logistic regression).

    It is the fixed judge of the class mix of every generation. Returns the fitted
    scikit-learn estimator with an extra attribute ``holdout_accuracy_`` measured on
    a held-out quarter before refitting on everything. The result is cached per
    ``seed`` (the same object is returned again; do not refit it).
    """
    return _train_classifier(check_seed("seed", seed))


@lru_cache(maxsize=4)
def _train_classifier(seed: int):
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split

    x, y = load_digits(1.0)
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.25, random_state=seed, stratify=y)
    clf = LogisticRegression(max_iter=3000, C=1.0)
    acc = clf.fit(xtr, ytr).score(xte, yte)
    clf = LogisticRegression(max_iter=3000, C=1.0).fit(x, y)
    clf.holdout_accuracy_ = float(acc)
    return clf


def class_shares(images, classifier, min_confidence: float = 0.0) -> np.ndarray:
    """Share of each digit 0..9 among ``images`` according to ``classifier``.

    An image counts for digit ``c`` when the classifier's most likely class is
    ``c`` *and* its probability is at least ``min_confidence``; images below that
    confidence count for no digit (they are *unrecognised*), so the shares then
    sum to ``1 - unrecognised share``.
    """
    x = check_array("images", images, ndim=2)
    conf = check_float("min_confidence", min_confidence, low=0.0, high=1.0)
    proba = classifier.predict_proba(x)
    pred = np.asarray(classifier.classes_)[proba.argmax(axis=1)]
    ok = proba.max(axis=1) >= conf
    return np.bincount(pred[ok], minlength=N_CLASSES)[:N_CLASSES] / len(pred)


# --------------------------------------------------------------------------- the VAE
def _build_vae(latent_dim: int, hidden: int):
    import torch
    from torch import nn

    class VAE(nn.Module):
        """Encoder 64 → hidden → hidden → (μ, log σ²); decoder latent → hidden → hidden → 64 logits."""

        def __init__(self):
            super().__init__()
            self.enc = nn.Sequential(nn.Linear(64, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())
            self.mu = nn.Linear(hidden, latent_dim)
            self.logvar = nn.Linear(hidden, latent_dim)
            self.dec = nn.Sequential(nn.Linear(latent_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                                     nn.Linear(hidden, 64))

        def encode(self, x):
            h = self.enc(x)
            return self.mu(h), self.logvar(h).clamp(-10, 10)

        def forward(self, x, noise):
            mu, logvar = self.encode(x)
            z = mu + noise * torch.exp(0.5 * logvar)
            return self.dec(z), mu, logvar

    return VAE()


class DigitVAE:
    """A small VAE for 8×8 digits that follows the loop protocol.

    Parameters
    ----------
    latent_dim : int >= 1
    hidden : int >= 4, width of the hidden layers
    epochs : int >= 1, passes over the training set
    batch_size : int >= 1
    lr : float > 0, Adam learning rate
    device : str, optional ("cpu", "cuda", "mps"); default :func:`collapse_kit.get_device`

    Notes
    -----
    All randomness (initial weights, mini-batches, the reparameterisation noise,
    sampling) comes from the ``rng`` given to ``fit``/``sample``, through a
    ``torch.Generator`` seeded from it: same seed, same numbers on the same device.
    """

    def __init__(self, latent_dim: int = 8, hidden: int = 128, epochs: int = 100, batch_size: int = 64,
                 lr: float = 2e-3, likelihood: str = "bernoulli", pixel_sd: float = 0.1,
                 pixel_noise: bool = False, threads: int | None = 1, device: str | None = None):
        self.latent_dim = check_int("latent_dim", latent_dim, low=1)
        self.hidden = check_int("hidden", hidden, low=4)
        self.epochs = check_int("epochs", epochs, low=1)
        self.batch_size = check_int("batch_size", batch_size, low=1)
        self.lr = check_float("lr", lr, low=0.0, low_open=True)
        self.likelihood = check_choice("likelihood", likelihood, ("gaussian", "bernoulli"))
        self.pixel_sd = check_float("pixel_sd", pixel_sd, low=0.0, low_open=True)
        self.pixel_noise = bool(pixel_noise)
        self.threads = None if threads is None else check_int("threads", threads, low=1)
        if device is None:
            from .runtime import get_device

            device = get_device()
        self.device = device
        self.net_ = None
        self.losses_: list[float] = []

    def _torch_gen(self, rng: np.random.Generator):
        import torch

        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"`rng` must be a numpy Generator (got {type(rng).__name__}).")
        return torch.Generator(device="cpu").manual_seed(int(rng.integers(0, 2**63 - 1)))

    def fit(self, data, rng: np.random.Generator) -> "DigitVAE":
        import torch
        import torch.nn.functional as F

        x = check_array("data", data, ndim=2, min_len=2)
        if x.shape[1] != 64:
            raise ValueError(f"`data` must have 64 pixels per image (8×8, flattened); got {x.shape[1]}.")
        if x.min() < 0 or x.max() > 1:
            raise ValueError("`data` pixels must be in [0, 1] (divide scikit-learn's digits by 16).")
        old_threads = torch.get_num_threads()
        if self.device == "cpu" and self.threads is not None:
            torch.set_num_threads(self.threads)  # a tiny MLP trains fastest on one thread
        try:
            return self._fit(x, rng)
        finally:
            torch.set_num_threads(old_threads)

    def _fit(self, x, rng):
        import torch
        import torch.nn.functional as F

        gen = self._torch_gen(rng)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(torch.randint(0, 2**62, (1,), generator=gen)))
            net = _build_vae(self.latent_dim, self.hidden)
        net.to(self.device)
        xt = torch.as_tensor(x, dtype=torch.float32)
        opt = torch.optim.Adam(net.parameters(), lr=self.lr)
        n = xt.shape[0]
        self.losses_ = []
        net.train()
        for _ in range(self.epochs):
            perm = torch.randperm(n, generator=gen)
            total = 0.0
            for start in range(0, n, self.batch_size):
                xb = xt[perm[start:start + self.batch_size]].to(self.device)
                noise = torch.randn(xb.shape[0], self.latent_dim, generator=gen).to(self.device)
                logits, mu, logvar = net(xb, noise)
                if self.likelihood == "bernoulli":
                    rec = F.binary_cross_entropy_with_logits(logits, xb, reduction="sum")
                else:  # Gaussian with fixed standard deviation `pixel_sd`
                    rec = F.mse_loss(torch.sigmoid(logits), xb, reduction="sum") / (2 * self.pixel_sd ** 2)
                kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
                loss = (rec + kl) / xb.shape[0]
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                total += float(loss.detach()) * xb.shape[0]
            self.losses_.append(total / n)
        net.eval()
        self.net_ = net
        return self

    def _check_fitted(self):
        if self.net_ is None:
            raise RuntimeError("call fit() before using the VAE.")

    def decode(self, z) -> np.ndarray:
        """Mean images (n, 64) in [0, 1] for latents ``z`` (n, latent_dim)."""
        import torch

        self._check_fitted()
        with torch.no_grad():
            zt = torch.as_tensor(np.asarray(z, dtype=np.float32)).to(self.device)
            return torch.sigmoid(self.net_.dec(zt)).cpu().numpy()

    def encode(self, images) -> np.ndarray:
        """Posterior means μ(x) (n, latent_dim) of ``images`` (n, 64)."""
        import torch

        self._check_fitted()
        x = check_array("images", images, ndim=2)
        with torch.no_grad():
            mu, _ = self.net_.encode(torch.as_tensor(x, dtype=torch.float32).to(self.device))
            return mu.cpu().numpy()

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` images: decoder means for latents drawn from N(0, I)."""
        import torch

        n = check_int("n", n, low=1)
        gen = self._torch_gen(rng)
        z = torch.randn(n, self.latent_dim, generator=gen).numpy()
        x = self.decode(z)
        if self.pixel_noise:
            if self.likelihood == "gaussian":
                x = np.clip(x + self.pixel_sd * torch.randn(x.shape, generator=gen).numpy(), 0.0, 1.0)
            else:
                x = (torch.rand(x.shape, generator=gen).numpy() < x).astype(np.float32)
        return x.astype(np.float32)


def latent_spread(images, reference: DigitVAE) -> float:
    """Spread of ``images`` in the latent space of ``reference`` (the generation-0 VAE).

    ``mean_j std_i μ₀(x_i)_j``: encode every image with the reference encoder
    (posterior mean), take the standard deviation across images of each latent
    coordinate, and average over the coordinates.
    """
    mu = reference.encode(images)
    if mu.shape[0] < 2:
        raise ValueError("`images` must hold at least 2 images to measure a spread.")
    return float(mu.std(axis=0).mean())


def pixel_sharpness(images) -> float:
    """How far pixels are from mid-grey on average: ``mean |2x - 1|`` (1 = pure black/white,
    0 = all grey). Blurry averaged digits score lower."""
    x = check_array("images", images, ndim=2)
    return float(np.abs(2 * x - 1).mean())


# --------------------------------------------------------------------------- the generational run
@dataclass
class DigitRun:
    """Result of :func:`run_digit_generations`.

    ``history`` is the loop's tidy DataFrame (metrics ``share.0`` … ``share.9``,
    ``unrecognised``, ``minority_share``, ``latent_spread``, ``sharpness``); ``samples[seed][g]``
    holds up to ``keep_samples`` images of generation ``g``; ``minority`` the digits
    counted as minority.
    """

    history: pd.DataFrame
    samples: dict = field(default_factory=dict)
    minority: tuple = ()

    def shares(self, seed: int | None = None) -> pd.DataFrame:
        """Class shares per generation (rows) and digit (columns), mean over seeds."""
        h = self.history[self.history["metric"].str.startswith("share.")]
        if seed is not None:
            h = h[h["seed"] == seed]
        tab = h.groupby(["generation", "metric"])["value"].mean().unstack()
        tab.columns = [int(c.split(".")[1]) for c in tab.columns]
        return tab[sorted(tab.columns)]

    def metric(self, name: str) -> pd.Series:
        h = self.history[self.history["metric"] == name]
        if h.empty:
            raise ValueError(f"`name` must be a metric of the run (got {name!r}).")
        return h.groupby("generation")["value"].mean()


def run_digit_generations(real_images, *, generations: int, sample_size: int | None = None,
                          strategy: str = "replace", real_fraction: float | None = None, classifier=None,
                          minority=(7, 8, 9), min_confidence: float = 0.5, seeds=0, keep_samples: int = 32,
                          progress: bool = False, **vae_kwargs) -> DigitRun:
    """Retrain a :class:`DigitVAE` on its own samples with :func:`collapse_kit.loop.run_generations`.

    Parameters
    ----------
    real_images : array (n, 64) in [0, 1]
    generations, sample_size, strategy, real_fraction, seeds, progress : see ``run_generations``
    classifier : fitted classifier for the class mix (default: :func:`train_classifier`)
    minority : digits whose summed share is reported as ``minority_share``
    min_confidence : images the classifier recognises with lower probability count as
        ``unrecognised`` (see :func:`class_shares`)
    keep_samples : images kept per generation for image grids
    **vae_kwargs : passed to :class:`DigitVAE` (``epochs``, ``latent_dim``, ...)
    """
    from .loop import run_generations

    real = check_array("real_images", real_images, ndim=2, min_len=2)
    minority = tuple(int(check_int("minority", c, low=0, high=9)) for c in minority)
    keep_samples = check_int("keep_samples", keep_samples, low=0)
    min_confidence = check_float("min_confidence", min_confidence, low=0.0, high=1.0)
    clf = classifier if classifier is not None else train_classifier()
    DigitVAE(**vae_kwargs)  # validate the settings before any training
    state: dict = {"ref": None}
    kept: dict = {}

    def measure(model, samples) -> dict:
        if state.get("key") is samples:  # the loop asks once per metric: measure once per generation
            return state["out"]
        if state["ref"] is None:  # generation 0 of a seed: its VAE is the reference
            state["ref"] = model
        shares = class_shares(samples, clf, min_confidence)
        out = {f"share.{c}": shares[c] for c in range(N_CLASSES)}
        out["unrecognised"] = 1.0 - float(shares.sum())
        out["minority_share"] = float(shares[list(minority)].sum()) if minority else 0.0
        out["latent_spread"] = latent_spread(samples, state["ref"])
        out["sharpness"] = pixel_sharpness(samples)
        state["key"], state["out"] = samples, out
        return out

    names = [f"share.{c}" for c in range(N_CLASSES)] + ["unrecognised", "minority_share", "latent_spread",
                                                         "sharpness"]
    metrics = {name: (lambda model, samples, name=name: measure(model, samples)[name]) for name in names}

    def on_generation(generation, seed, model, samples, train):
        kept.setdefault(seed, {})[generation] = np.asarray(samples[:keep_samples])
        if generation == generations:
            state["ref"] = None

    history = run_generations(lambda: DigitVAE(**vae_kwargs), real, generations=generations,
                              sample_size=sample_size, strategy=strategy, real_fraction=real_fraction,
                              metrics=metrics, seeds=seeds, on_generation=on_generation, progress=progress)
    return DigitRun(history=history, samples=kept, minority=minority)


# --------------------------------------------------------------------------- plots
def image_grid(images, *, n_cols: int = 8, ax=None, title: str | None = None):
    """Show images (n, 64) as a grid of 8×8 digits on one axes; return the axes."""
    import matplotlib.pyplot as plt

    x = check_array("images", images, ndim=2)
    n_cols = check_int("n_cols", n_cols, low=1)
    n = x.shape[0]
    n_rows = int(np.ceil(n / n_cols))
    canvas = np.zeros((n_rows * 9 - 1, n_cols * 9 - 1))  # white gaps between digits
    for i in range(n):
        r, c = divmod(i, n_cols)
        canvas[r * 9:r * 9 + 8, c * 9:c * 9 + 8] = x[i].reshape(IMAGE_SHAPE)
    if ax is None:
        _, ax = plt.subplots(figsize=(n_cols * 0.45, n_rows * 0.45))
    ax.imshow(canvas, cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    if title:
        ax.set_title(title, fontsize=9)
    return ax


def imbalance_explorer(*, seed: int = 0):
    """An :class:`collapse_kit.widgets.Explorer` for the real training set's imbalance.

    One slider, ``imbalance`` in [0.02, 1]; the figure shows how many images of each
    digit are kept (``last_result`` holds those counts)."""
    import matplotlib.pyplot as plt

    from .widgets import Explorer, float_slider

    def draw(imbalance):
        _, y = load_digits(imbalance, seed=seed)
        counts = np.bincount(y, minlength=N_CLASSES)
        fig, ax = plt.subplots(figsize=(7, 3.2))
        ax.bar(np.arange(N_CLASSES), counts, color="C0")
        ax.set_xticks(np.arange(N_CLASSES))
        ax.set_xlabel("digit")
        ax.set_ylabel("images kept")
        ax.set_title(f"real training set: imbalance {imbalance:.2f} → {counts.sum()} images, "
                     f"rarest/commonest = {counts.min()}/{counts.max()}")
        fig.tight_layout()
        return fig, counts

    controls = {"imbalance": float_slider("imbalance (share kept of digit 9)", 0.1, 0.02, 1.0, 0.02)}
    return Explorer(controls, draw, title="How imbalanced is the real set?")
