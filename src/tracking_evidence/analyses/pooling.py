"""Computations of the pooling chapter (``book/pooling.md``): each High School and Beyond school as a study.

Two-stage analysis: in each of the 160 schools, the OLS slope of mathematics achievement on SES
(the within-school SES gradient) and its sampling variance; then the slopes are pooled
(:mod:`tracking_evidence.stats.meta`) and meta-regressed on the school's academic-track share (``pracad``)
and sector. One-stage analysis: a linear mixed model with a random intercept and a random SES slope
by school (statsmodels ``MixedLM``), fitted with each of statsmodels' optimizers and compared with
lme4 (fixture ``tests/reference/lme4_hsb_slopes.json``, written by
``tests/reference/lme4_hsb_slopes.R``).

SES is centred on each school's mean (``cses``) in the one-stage model, so that its fixed slope is a
within-school gradient like the two-stage slopes (Raudenbush and Bryk 2002, ch. 4).
"""

from __future__ import annotations

import json
import re
import warnings
from functools import cache

import numpy as np
import pandas as pd
from scipy import stats

from .. import data
from ..stats import meta

__all__ = [
    "school_slopes",
    "two_stage",
    "slope_metareg",
    "hsb_one_stage_frame",
    "ONE_STAGE_FORMULAS",
    "OPTIMIZERS",
    "mixedlm_comparison",
    "lme4_reference",
    "best_one_stage",
    "one_vs_two_stage",
    "source_a_pooled_g",
    "simulate_studies",
]

ONE_STAGE_FORMULAS = {
    "simple": "mathach ~ cses",
    "moderated": "mathach ~ cses * (pracad + catholic)",
}
OPTIMIZERS = ("lbfgs", "bfgs", "cg", "nm", "powell")
LME4_FIXTURE = data.reference_dir() / "lme4_hsb_slopes.json"


# --------------------------------------------------------------------------------------------
# stage one: a slope per school
# --------------------------------------------------------------------------------------------


def within_slopes(frame: pd.DataFrame, group: str, x: str, y: str) -> pd.DataFrame:
    """OLS slope of ``y`` on ``x`` within each ``group``, vectorised over groups.

    For group j with :math:`n_j` students: :math:`b_j = S_{xy}/S_{xx}`, residual variance
    :math:`s_j^2 = (S_{yy} - b_j S_{xy})/(n_j - 2)`, sampling variance :math:`v_j = s_j^2/S_{xx}`
    (sums of squares and cross-products about the group means), t = b/sqrt(v) on n - 2 df.
    Raises ``ValueError`` for a group with fewer than 3 rows or no variation in ``x``.
    """
    for column in (group, x, y):
        if column not in frame.columns:
            raise ValueError(f"column '{column}' is missing (columns: {list(frame.columns)})")
    if frame[[x, y]].isna().any().any():
        raise ValueError(f"missing values in '{x}' or '{y}'")
    g = frame.groupby(group, sort=True)
    n = g[x].size()
    small = n[n < 3]
    if len(small):
        raise ValueError(f"{len(small)} group(s) with fewer than 3 rows, e.g. {group} {small.index[0]} (n = {small.iloc[0]})")
    xm = g[x].transform("mean")
    ym = g[y].transform("mean")
    dx, dy = frame[x] - xm, frame[y] - ym
    sums = pd.DataFrame({group: frame[group], "sxx": dx * dx, "sxy": dx * dy, "syy": dy * dy}).groupby(group, sort=True).sum()
    flat = sums.index[sums["sxx"] <= 1e-12]
    if len(flat):
        raise ValueError(f"{len(flat)} group(s) where '{x}' does not vary, e.g. {group} {flat[0]}: no slope")
    slope = sums["sxy"] / sums["sxx"]
    s2 = (sums["syy"] - slope * sums["sxy"]) / (n - 2)
    var = s2 / sums["sxx"]
    t = slope / np.sqrt(var)
    out = pd.DataFrame({"n": n, "slope": slope, "var": var, "se": np.sqrt(var), "t": t,
                        "p": 2 * stats.t.sf(np.abs(t), n - 2), "sigma2": s2})
    out.index.name = group
    return out.reset_index()


@cache
def _school_slopes() -> pd.DataFrame:
    hsb = data.load_hsb()
    slopes = within_slopes(hsb, "school", "ses", "mathach")
    schools = data.load_hsb_schools().set_index("school")
    out = slopes.join(schools[["sector", "pracad", "meanses", "size"]], on="school")
    out["catholic"] = (out["sector"] == "Catholic").astype(int)
    return out


def school_slopes() -> pd.DataFrame:
    """One row per HSB school: n, SES slope of mathach, its sampling variance, se, t, p, and school covariates."""
    return _school_slopes().copy()


# --------------------------------------------------------------------------------------------
# stage two: pooling and meta-regression
# --------------------------------------------------------------------------------------------


@cache
def two_stage() -> dict[str, meta.PoolResult]:
    """The school slopes pooled: ``FE``, ``DL``, ``REML`` and ``REML_KNHA``."""
    s = _school_slopes()
    return {
        "FE": meta.pool(s["slope"], s["var"], method="FE"),
        "DL": meta.pool(s["slope"], s["var"], method="DL"),
        "REML": meta.pool(s["slope"], s["var"], method="REML"),
        "REML_KNHA": meta.pool(s["slope"], s["var"], method="REML", knha=True),
    }


@cache
def slope_metareg(method: str = "REML", knha: bool = True) -> meta.MetaRegResult:
    """Meta-regression of the school slopes on ``pracad`` and ``catholic`` (1 = Catholic sector)."""
    s = _school_slopes()
    return meta.metareg(s["slope"], s["var"], s[["pracad", "catholic"]], method=method, knha=knha)


# --------------------------------------------------------------------------------------------
# one stage: MixedLM with every optimizer, and lme4
# --------------------------------------------------------------------------------------------


def hsb_one_stage_frame() -> pd.DataFrame:
    """HSB students with ``cses`` (SES centred on the school mean) and ``catholic``."""
    hsb = data.load_hsb()
    hsb["cses"] = hsb["ses"] - hsb.groupby("school")["ses"].transform("mean")
    hsb["catholic"] = (hsb["sector"] == "Catholic").astype(int)
    return hsb


def _fit_mixedlm(frame: pd.DataFrame, formula: str, optimizer: str):
    import statsmodels.formula.api as smf

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = smf.mixedlm(formula, frame, groups=frame["school"], re_formula="~cses")
        fit = model.fit(reml=True, method=optimizer)
    messages = []
    for w in caught:  # one line per distinct warning, with its class
        line = f"{w.category.__name__}: {str(w.message).splitlines()[0]}"
        if line not in messages:
            messages.append(line)
    return fit, messages


@cache
def _mixedlm_comparison() -> pd.DataFrame:
    frame = hsb_one_stage_frame()
    rows = []
    for model, formula in ONE_STAGE_FORMULAS.items():
        for optimizer in OPTIMIZERS:
            fit, messages = _fit_mixedlm(frame, formula, optimizer)
            cov = fit.cov_re.to_numpy()
            rows.append({
                "model": model, "software": "statsmodels MixedLM", "optimizer": optimizer,
                "loglik_reml": float(fit.llf), "converged": bool(fit.converged), "n_warnings": len(messages),
                "warnings": " | ".join(messages),
                "cses": float(fit.fe_params["cses"]),
                "cses_se": float(fit.bse_fe["cses"]),
                "cses_pracad": float(fit.fe_params.get("cses:pracad", np.nan)),
                "cses_catholic": float(fit.fe_params.get("cses:catholic", np.nan)),
                "var_intercept": float(cov[0, 0]), "var_slope": float(cov[1, 1]), "cov_intercept_slope": float(cov[0, 1]),
                "var_residual": float(fit.scale),
            })
    for ref in lme4_reference()["fits"]:
        names = list(ref["fixef_names"])
        fe = dict(zip(names, ref["fixef"]))
        rows.append({
            "model": ref["model"], "software": f"lme4 {lme4_reference()['lme4_version']}", "optimizer": ref["optimizer"],
            "loglik_reml": float(ref["loglik_reml"]), "converged": len(ref["messages"]) == 0,
            "n_warnings": len(ref["messages"]), "warnings": " | ".join(ref["messages"]),
            "cses": float(fe["cses"]), "cses_se": float(ref["fixef_se"][names.index("cses")]),
            "cses_pracad": float(fe.get("cses:pracad", np.nan)), "cses_catholic": float(fe.get("cses:catholic", np.nan)),
            "var_intercept": float(ref["var_intercept"]), "var_slope": float(ref["var_slope"]),
            "cov_intercept_slope": float(ref["cov_intercept_slope"]), "var_residual": float(ref["var_residual"]),
        })
    table = pd.DataFrame(rows)
    best = table.groupby("model")["loglik_reml"].transform("max")
    table["loglik_gap"] = table["loglik_reml"] - best
    return table


def mixedlm_comparison() -> pd.DataFrame:
    """Every (model, optimizer) fit of the one-stage random-slope model: REML log-likelihood,
    statsmodels' ``converged`` flag, the warnings it raised (caught and recorded here), the cses
    coefficients and variance components; plus lme4's fits from the committed fixture.
    ``loglik_gap``: distance to the best log-likelihood found for that model by any software.
    Cached: the ten MixedLM fits take a few seconds.
    """
    return _mixedlm_comparison().copy()


@cache
def lme4_reference() -> dict:
    """The lme4 fits written by ``tests/reference/lme4_hsb_slopes.R``."""
    if not LME4_FIXTURE.exists():
        raise FileNotFoundError(f"lme4 fixture not found at {LME4_FIXTURE}: run `make references`")
    return json.loads(LME4_FIXTURE.read_text(encoding="utf-8"))


def best_one_stage(model: str = "simple", tolerance: float = 1e-3) -> pd.Series:
    """The statsmodels fit with the highest REML log-likelihood among those that raised no warning and
    report convergence, provided it is within ``tolerance`` of lme4's best; else ``ValueError``."""
    table = _mixedlm_comparison()
    sm = table[(table["model"] == model) & table["software"].str.startswith("statsmodels")]
    clean = sm[sm["converged"] & (sm["n_warnings"] == 0)]
    if clean.empty:
        raise ValueError(f"no MixedLM optimizer fitted the {model} model without warnings")
    best = clean.loc[clean["loglik_reml"].idxmax()]
    lme4_best = table[(table["model"] == model) & table["software"].str.startswith("lme4")]["loglik_reml"].max()
    if best["loglik_reml"] < lme4_best - tolerance:
        raise ValueError(
            f"best MixedLM fit of the {model} model ({best['optimizer']}, loglik {best['loglik_reml']:.4f}) is "
            f"below lme4's ({lme4_best:.4f}) by more than {tolerance}"
        )
    return best


def one_vs_two_stage() -> pd.DataFrame:
    """Side by side: the pooled slope and its moderators, two-stage (REML, KNHA) and one-stage (best fit)."""
    pooled = two_stage()["REML_KNHA"]
    reg = slope_metareg()
    simple, moderated = best_one_stage("simple"), best_one_stage("moderated")
    coef = dict(zip(reg.names, reg.coef))
    return pd.DataFrame(
        {
            "two-stage (REML, KNHA)": [pooled.estimate, pooled.tau2, coef["pracad"], coef["catholic"]],
            f"one-stage (MixedLM {simple['optimizer']} / {moderated['optimizer']})": [
                simple["cses"], simple["var_slope"], moderated["cses_pracad"], moderated["cses_catholic"]],
        },
        index=["mean SES slope", "variance of the slopes (tau2)", "slope change per unit pracad",
               "slope difference, Catholic - public"],
    )


# --------------------------------------------------------------------------------------------
# Source A's pooled figures, and simulated studies to explain them
# --------------------------------------------------------------------------------------------

_G = re.compile(r"Hedge[’']s G\s*=\s*(?P<g>-?\.?\d[\d.]*)")


def source_a_pooled_g() -> dict[str, dict]:
    """Source A's two pooled Hedges' g, parsed from the quotes of claims A3 and A4 in ``data/claims.csv``.

    Returns ``{"A3": {"g": float, "quote": str}, "A4": {...}}``; raises ``ValueError`` if a quote does
    not hold exactly one "Hedge's G = <number>".
    """
    from ..data.claims import load_claims

    registry = load_claims().set_index("id")
    out = {}
    for cid in ("A3", "A4"):
        quote = registry.loc[cid, "quote"]
        found = _G.findall(quote)
        if len(found) != 1:
            raise ValueError(f"claim {cid}: expected one \"Hedge's G = ...\" in its quote, found {len(found)}")
        out[cid] = {"g": float(found[0]), "quote": quote}
    return out


def simulate_studies(k: int, mu: float, tau2: float, seed: int, v_range=(0.005, 0.05)) -> pd.DataFrame:
    """**Simulated** studies: :math:`y_i \\sim N(\\mu, \\tau^2 + v_i)`, :math:`v_i \\sim U(v_{range})`, seeded."""
    if k < 1:
        raise ValueError(f"k must be at least 1 (got {k})")
    if tau2 < 0:
        raise ValueError(f"tau2 must be non-negative (got {tau2})")
    rng = np.random.default_rng(seed)
    vi = rng.uniform(*v_range, size=k)
    yi = rng.normal(mu, np.sqrt(tau2 + vi))
    return pd.DataFrame({"study": [f"Study {i + 1}" for i in range(k)], "yi": yi, "vi": vi})


def pi_illustration(mu: float, taus=(0.0, 0.1, 0.2), k: int = 20, seed: int = 20261123) -> tuple[pd.DataFrame, dict]:
    """**Simulated** literatures with true mean ``mu`` and between-study SD ``tau`` (one per value), each
    pooled by REML with KNHA: what a pooled estimate and a prediction interval say about the same mean.

    Returns a table (one row per tau: pooled estimate, CI, PI, tau2, I2, p) and the simulated studies
    by tau. Seeds: ``seed + i`` for the i-th tau.
    """
    rows, studies = [], {}
    for i, tau in enumerate(taus):
        sim = simulate_studies(k, mu, tau**2, seed=seed + i)
        r = meta.pool(sim["yi"], sim["vi"], method="REML", knha=True)
        rows.append({"true_tau": tau, "estimate": r.estimate, "ci_low": r.ci_low, "ci_high": r.ci_high,
                     "pi_low": r.pi_low, "pi_high": r.pi_high, "tau2": r.tau2, "i2": r.i2, "pvalue": r.pvalue})
        studies[tau] = sim
    return pd.DataFrame(rows), studies


def asymmetry_diagnostics() -> dict:
    """Where the school slopes' funnel asymmetry comes from (there is no publication filter here).

    ``corr_se_slope``: correlation of a school's slope with its standard error; ``corr_sigma_slope``:
    with its residual SD (the same residuals give the slope's SE); ``egger_public_p`` and
    ``egger_catholic_p``: Egger's test within each sector; ``se_coef``/``se_p``: coefficient of the SE
    in a REML meta-regression of the slopes on SE, pracad and sector (KNHA).
    """
    from ..stats import bias

    s = _school_slopes()
    pub, cat = s[s["catholic"] == 0], s[s["catholic"] == 1]
    reg = meta.metareg(s["slope"], s["var"], s[["se", "pracad", "catholic"]], method="REML", knha=True)
    j = reg.names.index("se")
    return {
        "corr_se_slope": float(np.corrcoef(s["se"], s["slope"])[0, 1]),
        "corr_sigma_slope": float(np.corrcoef(np.sqrt(s["sigma2"]), s["slope"])[0, 1]),
        "corr_se_catholic": float(np.corrcoef(s["se"], s["catholic"])[0, 1]),
        "egger_public_p": bias.egger(pub["slope"], pub["var"]).p,
        "egger_catholic_p": bias.egger(cat["slope"], cat["var"]).p,
        "k_public": int(len(pub)), "k_catholic": int(len(cat)),
        "se_coef": float(reg.coef[j]), "se_p": float(reg.pvalue[j]),
    }
