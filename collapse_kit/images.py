"""Images in the generational loop: a small VAE retrained on its own digits (lesson 03).

Data: scikit-learn's bundled 8×8 handwritten digits (1,797 images, no download), pixel
values 0..16 divided by 16 and flattened to 64 numbers. Each digit's images are split once
(seeded) into a *training pool* and a held-out *reservoir* (a quarter). :func:`load_digits`
makes the real training set deliberately *imbalanced*: digit ``c`` keeps a fraction
``imbalance ** (c / 9)`` of its pool, so 0 keeps all and 9 keeps a fraction ``imbalance``.
:func:`reservoir_sampler` draws *fresh* real digits from the reservoir with the same class
shares (the ``real_sampler`` of a ``fresh_real`` strategy).

Model: :class:`DigitVAE`, a batched model of the loop (data ``(n_chains, N, 64)``). Per chain,
a variational auto-encoder (MLP 64 → 128 → 128 → 8-d latent and back, Bernoulli likelihood on
the grey levels, the KL term warmed up from 0 to 1 over the first third of training), then a
Gaussian mixture fitted to where the training images land in the latent space (the encoder
means). Samples are decoder mean images of latents drawn from that mixture.

Why this model: a VAE that samples latents from its N(0, I) prior draws many images from the
"holes" between the classes and under-produces the rare digits (a digit seen 13 times owns a
tiny part of the prior's mass), so it forgets the rare digits *before* any recursion. Fitting
the sampling distribution to the encoded training images (ex-post density estimation, Ghosh et
al., ICLR 2020, "From variational to deterministic autoencoders") makes generation 0 draw every
digit about as often as the training set holds it; then every loss of a rare digit in later
generations comes from the recursion. ``prior_components=0`` gives the plain N(0, I) sampler
for comparison.

Metrics (:func:`digit_metrics`, on the loop's :class:`~collapse_kit.loop.Context`):

* **class shares** — a fixed judge (logistic regression on real digits, :func:`train_classifier`)
  labels the images; an image whose top class has probability < ``min_confidence`` is
  *unrecognised*;
* **latent spread** — encode the images with the *generation-0* encoder (``ctx.model0``), take
  the standard deviation across images of each latent coordinate, average over coordinates;
* **sharpness** — ``mean |2x - 1|`` (1 = pure black/white, 0 = all grey).

This module imports torch only when a VAE is built; lessons 00–02 never import torch.
"""
from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path

import numpy as np

from ._validate import check_array, check_float, check_int, check_seed

N_CLASSES = 10
IMAGE_SHAPE = (8, 8)
RESERVOIR = 0.25          # share of each digit's images held out for fresh real draws
MIN_CONFIDENCE = 0.5      # the judge must be at least this sure to recognise an image
MINORITY = (7, 8, 9)      # the rare digits of the imbalanced set
RUNS_VERSION = 2          # bump when the model or the metrics change: cached runs are then recomputed


# --------------------------------------------------------------------------- data
def class_fractions(imbalance: float) -> np.ndarray:
    """Fraction of each digit's images kept: ``imbalance ** (c / 9)`` for c = 0..9 (imbalance in (0, 1])."""
    r = check_float("imbalance", imbalance, low=0.0, high=1.0, low_open=True)
    return r ** (np.arange(N_CLASSES) / (N_CLASSES - 1))


@lru_cache(maxsize=1)
def _all_digits():
    from sklearn.datasets import load_digits as _load

    d = _load()
    return (d.data / 16.0).astype(np.float32), d.target.astype(np.int64)


def _split(seed: int, part: str):
    x, y = _all_digits()
    rng = np.random.default_rng([seed, 7])
    idx = []
    for c in range(N_CLASSES):
        members = rng.permutation(np.flatnonzero(y == c))
        n_res = int(round(RESERVOIR * members.size))
        idx.append(np.sort(members[n_res:] if part == "pool" else members[:n_res]))
    return idx


def load_digits(imbalance: float = 1.0, *, seed: int = 0, part: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """Digits as ``(images (n, 64) in [0, 1], labels (n,))``.

    Parameters
    ----------
    imbalance : float in (0, 1]
        Digit ``c`` keeps a fraction ``imbalance ** (c / 9)`` of its images (rounded, at least 1).
    seed : int >= 0
        Which images go to the reservoir and which are kept.
    part : {"train", "pool", "reservoir", "all"}
        ``"train"``: the imbalanced training set drawn from the pool; ``"pool"``: the whole pool
        (3/4 of each digit); ``"reservoir"``: the held-out quarter; ``"all"``: all 1,797 images.
    """
    if part not in ("train", "pool", "reservoir", "all"):
        raise ValueError(f"`part` must be 'train', 'pool', 'reservoir' or 'all' (got {part!r}).")
    keep = class_fractions(imbalance)
    seed = check_seed("seed", seed)
    x, y = _all_digits()
    if part == "all":
        return x, y
    idx = _split(seed, "reservoir" if part == "reservoir" else "pool")
    if part == "train":
        rng = np.random.default_rng([seed, 11])
        idx = [np.sort(rng.choice(m, size=max(1, int(round(keep[c] * m.size))), replace=False))
               for c, m in enumerate(idx)]
    idx = np.concatenate(idx)
    return x[idx], y[idx]


def reservoir_sampler(imbalance: float = 1.0, *, seed: int = 0):
    """Fresh real digits: a ``real_sampler(rng, n_chains, n) -> (n_chains, n, 64)`` for the loop.

    Each draw picks a digit with the imbalanced training set's expected share
    (``imbalance ** (c / 9)``, normalised) and then one of that digit's held-out reservoir images
    (with replacement), so fresh items follow the real distribution but are not the training images.
    """
    w = class_fractions(imbalance)
    w = w / w.sum()
    x, y = load_digits(imbalance, seed=seed, part="reservoir")
    by_class = [x[y == c] for c in range(N_CLASSES)]

    def draw(rng, n_chains, n):
        cls = rng.choice(N_CLASSES, size=(n_chains, n), p=w)
        out = np.empty((n_chains, n, 64), np.float32)
        for c in range(N_CLASSES):
            mask = cls == c
            out[mask] = by_class[c][rng.integers(0, len(by_class[c]), size=int(mask.sum()))]
        return out

    return draw


# --------------------------------------------------------------------------- the judge
def train_classifier(seed: int = 0):
    """The judge: a logistic-regression digit classifier trained on 75% of all real digits.

    Its held-out accuracy (on the other 25%) is ``holdout_accuracy_``, and the share of held-out
    real images it recognises with confidence >= ``MIN_CONFIDENCE`` is ``holdout_recognised_``:
    the bar a generative model's samples are compared with. Cached per ``seed`` (do not refit it).
    """
    return _train_classifier(check_seed("seed", seed))


@lru_cache(maxsize=4)
def _train_classifier(seed: int):
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split

    x, y = _all_digits()
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.25, random_state=seed, stratify=y)
    clf = LogisticRegression(max_iter=3000, C=1.0).fit(xtr, ytr)
    clf.holdout_accuracy_ = float(clf.score(xte, yte))
    clf.holdout_recognised_ = float(class_shares(xte, clf).sum())
    return clf


def class_shares(images, classifier, min_confidence: float = MIN_CONFIDENCE) -> np.ndarray:
    """Share of each digit 0..9 among ``images (n, 64)`` by ``classifier``'s most likely class.

    Images whose top probability is below ``min_confidence`` count for no digit (unrecognised),
    so the shares sum to the recognised share.
    """
    x = check_array("images", images, ndim=2)
    conf = check_float("min_confidence", min_confidence, low=0.0, high=1.0)
    proba = classifier.predict_proba(x)
    pred = np.asarray(classifier.classes_)[proba.argmax(axis=1)]
    ok = proba.max(axis=1) >= conf
    return np.bincount(pred[ok], minlength=N_CLASSES)[:N_CLASSES] / len(pred)


# --------------------------------------------------------------------------- the VAE
def _build_vae(latent_dim: int, hidden: int, n_chains: int, generator):
    """``n_chains`` independent VAEs as one module: every weight has a leading chain axis and a layer is one
    batched matrix product, so a step trains all chains at the cost of about one (small MLPs are overhead-bound
    on a CPU). Chains share no parameter and Adam works element-wise, so each chain trains exactly as alone."""
    import torch
    from torch import nn

    class Linear(nn.Module):
        def __init__(self, n_in, n_out):
            super().__init__()
            bound = 1 / n_in ** 0.5                     # torch.nn.Linear's default initialisation
            self.weight = nn.Parameter((torch.rand(n_chains, n_in, n_out, generator=generator) * 2 - 1) * bound)
            self.bias = nn.Parameter((torch.rand(n_chains, 1, n_out, generator=generator) * 2 - 1) * bound)

        def forward(self, x):                           # x: (n_chains, batch, n_in)
            return torch.baddbmm(self.bias, x, self.weight)

    class VAE(nn.Module):
        def __init__(self):
            super().__init__()
            self.enc = nn.Sequential(Linear(64, hidden), nn.ReLU(), Linear(hidden, hidden), nn.ReLU())
            self.mu = Linear(hidden, latent_dim)
            self.logvar = Linear(hidden, latent_dim)
            self.dec = nn.Sequential(Linear(latent_dim, hidden), nn.ReLU(), Linear(hidden, hidden), nn.ReLU(),
                                     Linear(hidden, 64))

        def encode(self, x):
            h = self.enc(x)
            return self.mu(h), self.logvar(h).clamp(-10, 10)

        def forward(self, x, noise):
            mu, logvar = self.encode(x)
            return self.dec(mu + noise * torch.exp(0.5 * logvar)), mu, logvar

    return VAE()


class DigitVAE:
    """A VAE per chain with a latent Gaussian-mixture sampler; the loop's batched image model.

    Parameters
    ----------
    latent_dim : int >= 1
    hidden : int >= 4, width of the two hidden layers
    epochs : int >= 1, passes over the training set
    batch_size : int >= 1
    lr : float > 0, Adam learning rate
    warmup : float in [0, 1], share of the epochs over which the KL weight rises from 0 to ``beta``
    beta : float > 0, the final weight of the KL term (below 1 the codes of rare digits stay apart)
    prior_components : int >= 0, mixture components fitted to the encoded training images
        (0: sample latents from the N(0, I) prior instead)
    temperature : float > 0, sampling bias of the latent mixture, like a softmax temperature: a component
        is chosen with probability ∝ ``weight ** (1 / temperature)`` and its spread is multiplied by
        ``temperature``. Below 1 the common digits and their typical strokes are drawn more often
        (Alemohammad et al.'s sampling bias); 1 is the fitted mixture itself.
    threads : int >= 1 or None, torch CPU threads while fitting (a small MLP is fastest on 1)
    device : str, optional ("cpu", "cuda", "mps"); default :func:`collapse_kit.get_device`

    Notes
    -----
    ``fit(data (n_chains, N, 64), rng)`` trains one network per chain (all chains at once, batched);
    every random number (weights, mini-batches, reparameterisation noise, the mixture) comes from
    ``rng``: same seed, same numbers on a CPU (on a GPU, up to CUDA's non-deterministic kernels). ``sample(n, rng)`` returns ``(n_chains, n, 64)`` mean images in [0, 1].
    """

    def __init__(self, latent_dim: int = 8, hidden: int = 128, epochs: int = 150, batch_size: int = 128,
                 lr: float = 2e-3, warmup: float = 0.3, beta: float = 0.1, prior_components: int = 30,
                 temperature: float = 1.0, threads: int | None = 1,
                 device: str | None = None):
        self.latent_dim = check_int("latent_dim", latent_dim, low=1)
        self.hidden = check_int("hidden", hidden, low=4)
        self.epochs = check_int("epochs", epochs, low=1)
        self.batch_size = check_int("batch_size", batch_size, low=1)
        self.lr = check_float("lr", lr, low=0.0, low_open=True)
        self.warmup = check_float("warmup", warmup, low=0.0, high=1.0)
        self.beta = check_float("beta", beta, low=0.0, low_open=True)
        self.prior_components = check_int("prior_components", prior_components, low=0)
        self.temperature = check_float("temperature", temperature, low=0.0, low_open=True)
        self.threads = None if threads is None else check_int("threads", threads, low=1)
        if device is None:
            from .runtime import get_device

            device = get_device()
        self.device = device
        self.net_ = None          # all chains' networks, batched (see _build_vae)
        self.priors_: list = []   # per chain: (weights, means, cholesky factors) or None
        self.losses_: list = []   # per chain: loss per epoch

    def settings(self) -> dict:
        """The constructor's arguments (device excluded): they name a cached run."""
        return dict(latent_dim=self.latent_dim, hidden=self.hidden, epochs=self.epochs, batch_size=self.batch_size,
                    lr=self.lr, warmup=self.warmup, beta=self.beta, prior_components=self.prior_components,
                    **({} if self.temperature == 1.0 else {"temperature": self.temperature}))

    def __repr__(self) -> str:
        return "DigitVAE(" + ", ".join(f"{k}={v!r}" for k, v in self.settings().items()) + ")"

    # ------------------------------------------------------------------ fit
    def fit(self, data, rng: np.random.Generator) -> "DigitVAE":
        import torch

        x = np.asarray(data, dtype=np.float32)
        if x.ndim != 3 or x.shape[2] != 64 or x.shape[1] < 2:
            raise ValueError(f"`data` must have shape (n_chains, n_images >= 2, 64): 8×8 images flattened "
                             f"(got {x.shape}).")
        if x.min() < 0 or x.max() > 1:
            raise ValueError("`data` pixels must be in [0, 1] (divide scikit-learn's digits by 16).")
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"`rng` must be a numpy Generator (got {type(rng).__name__}).")
        old = torch.get_num_threads()
        if self.device == "cpu" and self.threads is not None:
            torch.set_num_threads(self.threads)
        try:
            self.net_, losses = self._fit_all(x, rng)
        finally:
            torch.set_num_threads(old)
        self.losses_ = [list(l) for l in losses.T]
        mu = self.encode(x)
        self.priors_ = [self._fit_prior(m, rng) for m in mu]
        return self

    def _fit_all(self, x, rng):
        """Train one VAE per chain, all chains in one batched network (see :func:`_build_vae`)."""
        import torch
        import torch.nn.functional as F

        gen = torch.Generator(device="cpu").manual_seed(int(rng.integers(0, 2**63 - 1)))
        n_chains, n = x.shape[:2]
        net = _build_vae(self.latent_dim, self.hidden, n_chains, gen).to(self.device)
        xt = torch.tensor(x)  # a copy: the loop may pass a read-only broadcast view
        chain = torch.arange(n_chains)[:, None]
        opt = torch.optim.Adam(net.parameters(), lr=self.lr)
        losses = np.zeros((self.epochs, n_chains))
        warm = max(1, int(round(self.warmup * self.epochs)))
        net.train()
        for epoch in range(self.epochs):
            beta = self.beta * (min(1.0, (epoch + 1) / warm) if self.warmup > 0 else 1.0)
            perm = torch.stack([torch.randperm(n, generator=gen) for _ in range(n_chains)])
            total = torch.zeros(n_chains)
            for start in range(0, n, self.batch_size):
                xb = xt[chain, perm[:, start:start + self.batch_size]].to(self.device)  # (chains, b, 64)
                noise = torch.randn(n_chains, xb.shape[1], self.latent_dim, generator=gen).to(self.device)
                logits, mu, logvar = net(xb, noise)
                rec = F.binary_cross_entropy_with_logits(logits, xb, reduction="none").sum(dim=(1, 2))
                kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp(), dim=(1, 2))
                loss = (rec + beta * kl) / xb.shape[1]            # per chain: its own mean loss
                opt.zero_grad(set_to_none=True)
                loss.sum().backward()                             # chains share no weight: independent gradients
                opt.step()
                total += loss.detach().cpu() * xb.shape[1]
            losses[epoch] = total.numpy() / n
        net.eval()
        return net, losses

    def _fit_prior(self, mu, rng):
        if not self.prior_components:
            return None
        from sklearn.mixture import GaussianMixture

        mu = np.asarray(mu, dtype=np.float64)
        k = min(self.prior_components, len(mu) // 2 or 1)
        gm = GaussianMixture(k, covariance_type="full", reg_covar=1e-3, max_iter=200,
                             random_state=int(rng.integers(0, 2**31 - 1))).fit(mu)
        return gm.weights_, gm.means_, np.linalg.cholesky(gm.covariances_)

    # ------------------------------------------------------------------ use
    def _check_fitted(self):
        if self.net_ is None:
            raise RuntimeError("call fit() before using the VAE.")

    def encode(self, images) -> np.ndarray:
        """Posterior means μ(x): images ``(n_chains, n, 64)`` → ``(n_chains, n, latent_dim)``, each chain
        with its own encoder; images ``(1, n, 64)`` are encoded by every chain's encoder."""
        import torch

        self._check_fitted()
        x = np.asarray(images, dtype=np.float32)
        chains = self.net_.mu.weight.shape[0]
        if x.ndim != 3 or x.shape[0] not in (1, chains) or x.shape[2] != 64:
            raise ValueError(f"`images` must have shape ({chains}, n, 64) or (1, n, 64) (got {x.shape}).")
        x = np.broadcast_to(x, (chains,) + x.shape[1:])
        with torch.no_grad():
            return self.net_.encode(torch.tensor(x).to(self.device))[0].cpu().numpy()

    def decode(self, z) -> np.ndarray:
        """Mean images in [0, 1]: latents ``(n_chains, n, latent_dim)`` → ``(n_chains, n, 64)``."""
        import torch

        self._check_fitted()
        with torch.no_grad():
            return torch.sigmoid(self.net_.dec(torch.tensor(np.asarray(z, np.float32)).to(self.device))).cpu().numpy()

    def sample_latents(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``(n_chains, n, latent_dim)`` latents from each chain's mixture (or N(0, I)) at the sampling
        ``temperature``: component weights ``w ** (1 / temperature)`` (renormalised), spreads × ``temperature``."""
        self._check_fitted()
        n = check_int("n", n, low=1)
        out = []
        for prior in self.priors_:
            eps = self.temperature * rng.standard_normal((n, self.latent_dim))
            if prior is None:
                out.append(eps)
                continue
            w, means, chol = prior
            p = np.asarray(w, float) ** (1.0 / self.temperature)
            comp = rng.choice(len(w), size=n, p=p / p.sum())
            out.append(means[comp] + np.einsum("nij,nj->ni", chol[comp], eps))
        return np.stack(out).astype(np.float32)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` images per chain, ``(n_chains, n, 64)``: decoder means of latents from the sampler."""
        return self.decode(self.sample_latents(n, rng))

    # ------------------------------------------------------------------ persistence (the loop's store)
    def save(self, folder) -> None:
        import torch

        self._check_fitted()
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "settings.json").write_text(json.dumps(self.settings()))
        torch.save(self.net_.state_dict(), folder / "vae.pt")
        for i, prior in enumerate(self.priors_):
            if prior is not None:
                np.savez(folder / f"prior{i}.npz", w=prior[0], means=prior[1], chol=prior[2])
        (folder / "chains.json").write_text(json.dumps(len(self.priors_)))

    def load(self, folder) -> "DigitVAE":
        import torch

        folder = Path(folder)
        saved = json.loads((folder / "settings.json").read_text())
        if saved != self.settings():
            raise ValueError(f"{folder} holds a VAE with settings {saved}, not {self.settings()}.")
        n_chains = int(json.loads((folder / "chains.json").read_text()))
        net = _build_vae(self.latent_dim, self.hidden, n_chains, torch.Generator())
        net.load_state_dict(torch.load(folder / "vae.pt", map_location=self.device))
        self.net_ = net.to(self.device).eval()
        self.priors_ = []
        for i in range(n_chains):
            p = folder / f"prior{i}.npz"
            if p.is_file():
                with np.load(p) as f:
                    self.priors_.append((f["w"], f["means"], f["chol"]))
            else:
                self.priors_.append(None)
        return self


# --------------------------------------------------------------------------- metrics
def latent_spread(images, reference: DigitVAE) -> np.ndarray:
    """Spread of ``images (n_chains, n, 64)`` in the latent space of ``reference`` (generation 0's VAE),
    per chain: ``mean_j std_i μ₀(x_i)_j``."""
    mu = reference.encode(images)
    if mu.shape[1] < 2:
        raise ValueError("`images` must hold at least 2 images per chain to measure a spread.")
    return mu.std(axis=1).mean(axis=-1)


@lru_cache(maxsize=1)
def _reference_pca():
    from sklearn.decomposition import PCA

    x, _ = _all_digits()
    return PCA(8, random_state=0).fit(x)


def reference_spread(images) -> np.ndarray:
    """Spread of ``images (n_chains, n, 64)`` in a fixed reference space, per chain: the 8 principal
    components of all 1,797 real digits, ``mean_j std_i pc(x_i)_j``.

    Unlike :func:`latent_spread`, this yardstick was fitted to no arm's training data, so it gives no
    "home advantage" to images like generation 0's training set (an encoder spreads the images it was
    trained on more widely than unseen ones of the same digits).
    """
    x = check_array("images", images, ndim=3)
    if x.shape[1] < 2:
        raise ValueError("`images` must hold at least 2 images per chain to measure a spread.")
    pca = _reference_pca()
    return np.stack([pca.transform(xc).std(axis=0).mean() for xc in x])


def pixel_sharpness(images) -> np.ndarray:
    """``mean |2x - 1|`` over the last axis and the images (1 = black/white, 0 = all grey); blurry
    averaged digits score lower. Images ``(..., n, 64)`` → one value per leading index."""
    x = np.asarray(images, dtype=float)
    return np.abs(2 * x - 1).mean(axis=(-2, -1))


def class_distance(shares, reference) -> np.ndarray:
    """Total-variation distance between two mixes of digits: ``0.5 * sum |a - b|`` over the ten digits and
    the *unrecognised* share (``1 - sum``), as :func:`class_shares` returns them. 0: the same mix; 1: no
    overlap. ``shares (..., 10)`` against ``reference (10,)`` → ``(...)``."""
    a = check_array("shares", shares, ndim=(1, 2))
    b = check_array("reference", reference, ndim=1)
    if a.shape[-1] != N_CLASSES or b.shape != (N_CLASSES,):
        raise ValueError(f"`shares` and `reference` must hold {N_CLASSES} class shares (got {a.shape}, {b.shape}).")
    full = lambda s: np.concatenate([s, 1 - s.sum(axis=-1, keepdims=True)], axis=-1)  # noqa: E731
    return 0.5 * np.abs(full(a) - full(b)).sum(axis=-1)


def digit_metrics(judge, minority=MINORITY, min_confidence: float = MIN_CONFIDENCE, n_eval: int = 2000):
    """A metric for :func:`~collapse_kit.loop.run_generations` (pass it as ``metrics={"": ...}``).

    Each generation's model draws ``n_eval`` fresh images (from the context's own random stream,
    ``ctx.rng("judge")``, so the loop's numbers do not change) and, per chain, the metric returns
    ``share.0`` … ``share.9`` (the judge's class shares), ``recognised``, ``minority_share`` (digits
    ``minority`` together), ``class_distance`` (:func:`class_distance` from the judge's shares of the
    chain's real training set: how far the mix of digits has drifted), ``latent_spread`` (in
    ``ctx.model0``'s latent space), ``reference_spread`` (in the principal components of all real digits:
    :func:`reference_spread`) and ``sharpness``.
    Measuring on 2,000 draws rather than on the M training samples cuts the measurement noise
    (a share p is known to about sqrt(p(1-p)/n_eval)); ``n_eval=0`` measures ``ctx.samples``.
    """
    minority = [check_int("minority", c, low=0, high=9) for c in minority]
    min_confidence = check_float("min_confidence", min_confidence, low=0.0, high=1.0)
    n_eval = check_int("n_eval", n_eval, low=0)

    def measure(ctx) -> dict:
        images = ctx.model.sample(n_eval, ctx.rng("judge")) if n_eval else ctx.samples
        shares = np.stack([class_shares(s, judge, min_confidence) for s in images])  # (chains, 10)
        real = np.stack([class_shares(r, judge, min_confidence) for r in ctx.real])
        out = {f"share.{c}": shares[:, c] for c in range(N_CLASSES)}
        out["recognised"] = shares.sum(axis=1)
        out["minority_share"] = shares[:, minority].sum(axis=1)
        out["class_distance"] = np.array([class_distance(s, r) for s, r in zip(shares, real)])
        out["latent_spread"] = latent_spread(images, ctx.model0)
        out["reference_spread"] = reference_spread(images)
        out["sharpness"] = pixel_sharpness(images)
        return out

    return measure


def shares_table(history, strategy: str | None = None):
    """Class shares per generation (rows) and digit (columns), mean over chains, from a history."""
    from .history import values

    return np.stack([values(history, f"share.{c}", strategy).mean(axis=0) for c in range(N_CLASSES)], axis=1)


# --------------------------------------------------------------------------- cached runs for the explorer
def lesson_settings() -> dict:
    """Lesson 03's sizes, by mode: ``vae`` (DigitVAE settings), ``generations``, ``n_chains`` and the
    explorer's ``real_fractions``. Quick mode runs fewer generations and chains and a smaller explorer grid
    with the same model (fewer epochs would leave generation 0 without the rarest digits). The chains are
    independent repeats of the whole experiment (one VAE each, trained together): the lesson's asserts
    compare arms chain by chain, with standard errors across chains."""
    from .runtime import pick

    return dict(vae={}, generations=pick(8, 4), n_chains=pick(8, 6),
                real_fractions=pick((0.0, 0.25, 0.5), (0.0, 0.5)))


def run_folder(vae: DigitVAE, *, imbalance: float, seed: int, generations: int, sample_size: int,
               n_chains: int = 1) -> Path:
    """The cache folder of one lesson-03 run setting (under :func:`collapse_kit.runtime.cache_dir`)."""
    from .runtime import cache_dir

    key = json.dumps(dict(vae.settings(), imbalance=imbalance, seed=seed, generations=generations,
                          sample_size=sample_size, n_chains=n_chains, version=RUNS_VERSION), sort_keys=True)
    return cache_dir("images", hashlib.sha256(key.encode()).hexdigest()[:12])


def prepare_image_runs(real_fractions=None, *, imbalance: float = 0.1, generations: int | None = None,
                       n_chains: int | None = None, sample_size: int | None = None, seed: int = 0,
                       vae: dict | None = None, progress: bool = False):
    """Run (or load from the cache) the lesson-03 loop for a grid of real fractions λ, fixed and fresh.

    Every run goes through :func:`~collapse_kit.loop.run_generations` with ``store=`` a folder under
    ``cache_dir("images", ...)`` named by the settings, so a second call (or the explorer) loads the
    generations instead of retraining; instructors can call it ahead of class (the defaults, from
    :func:`lesson_settings`, are the lesson's own runs). λ = 0 is ``replace``. Returns ``(history, folder)``.
    """
    from .loop import run_generations
    from .strategies import Strategy, real_fraction_grid

    lesson = lesson_settings()
    lams = sorted({check_float("real_fractions", float(v), low=0.0, high=1.0)
                   for v in (lesson["real_fractions"] if real_fractions is None else real_fractions)})
    generations = check_int("generations", lesson["generations"] if generations is None else generations, low=1)
    n_chains = check_int("n_chains", lesson["n_chains"] if n_chains is None else n_chains, low=1)
    model = DigitVAE(**(vae or {}))
    strategies = [Strategy()] + [s for lam in lams if lam > 0 for s in real_fraction_grid([lam], False)
                                 + real_fraction_grid([lam], True)]
    x, _ = load_digits(imbalance, seed=seed)
    sample_size = check_int("sample_size", len(x) if sample_size is None else sample_size, low=2)
    folder = run_folder(model, imbalance=imbalance, seed=seed, generations=generations, sample_size=sample_size,
                        n_chains=n_chains)
    history = run_generations(lambda: DigitVAE(**model.settings(), device=model.device), x,
                              generations=generations, sample_size=sample_size, strategies=strategies,
                              n_chains=n_chains,
                              real_sampler=reservoir_sampler(imbalance, seed=seed),
                              metrics={"": digit_metrics(train_classifier(seed))}, seeds=seed, store=folder,
                              progress=progress, labels={"imbalance": imbalance})
    return history, folder


def stored_samples(folder, strategy, generation: int, seed: int = 0) -> np.ndarray:
    """The samples ``(n_chains, M, 64)`` a stored run kept for one generation (generation 0 is shared)."""
    from .store import Store

    saved = Store(folder).load(seed, generation, strategy if generation else None)
    if saved is None:
        raise ValueError(f"`generation` {generation} of {getattr(strategy, 'label', strategy)} is not stored in "
                         f"{folder}: run prepare_image_runs first.")
    return saved["samples"]
