# Reference values for tracking_evidence.stats.meta and tracking_evidence.stats.bias, computed by R's metafor.
#
# Run from the repository root (`make references`, or `Rscript tests/reference/metafor.R`).
# Writes tests/reference/metafor.json: the inputs (metafor's own example data and seeded random
# inputs) and, for each, what rma() (FE, DL, HE, SJ, PM, ML, REML; with and without
# test = "knha"), predict(), confint() (Q-profile interval for tau^2), regtest(model = "lm")
# (classical Egger), trimfill() and rma(mods = ...) report. The Python tests read only the JSON.
#
# Iterative estimators (PM, ML, REML and the Q-profile interval) are run with tight convergence
# settings (threshold and root-finding tolerance 1e-12) so that the fixture holds the solution to
# well below the 1e-6 the tests ask for, not metafor's default stopping point (1e-5 on tau^2).
suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})

ctrl <- list(threshold = 1e-12, tol = 1e-12, maxiter = 10000)
methods <- c("FE", "DL", "HE", "SJ", "PM", "ML", "REML")

datasets <- list()

# metafor's example data: BCG vaccine trials, log risk ratios (Colditz et al. 1994).
bcg <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
datasets$bcg <- list(yi = as.numeric(bcg$yi), vi = as.numeric(bcg$vi),
                     ablat = bcg$ablat, year = bcg$year,
                     source = "metafor dat.bcg, escalc(measure = 'RR')")
# Passive smoking and lung cancer, log odds ratios (Hackshaw et al. 1998), used in metafor's
# trimfill() examples.
datasets$hackshaw <- list(yi = as.numeric(dat.hackshaw1998$yi), vi = as.numeric(dat.hackshaw1998$vi),
                          source = "metafor dat.hackshaw1998 (yi, vi as shipped)")
# Normand (1999): length of hospital stay, mean differences.
norm <- escalc(measure = "MD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i,
               data = dat.normand1999)
datasets$normand <- list(yi = as.numeric(norm$yi), vi = as.numeric(norm$vi),
                         source = "metafor dat.normand1999, escalc(measure = 'MD')")

# Seeded random inputs (simulated).
set.seed(20261123)
k <- 30
vi <- runif(k, 0.01, 0.2)
datasets$sim_het <- list(yi = rnorm(k, 0.3, sqrt(vi + 0.05)), vi = vi,
                         source = "simulated: k = 30, tau2 = 0.05, seed 20261123")
k <- 12
vi <- runif(k, 0.02, 0.1)
datasets$sim_hom <- list(yi = rnorm(k, -0.1, sqrt(vi)), vi = vi,
                         source = "simulated: k = 12, tau2 = 0, seed 20261123 (continued)")
k <- 5
vi <- runif(k, 0.05, 0.3)
datasets$sim_small <- list(yi = rnorm(k, 0.2, sqrt(vi + 0.1)), vi = vi,
                           source = "simulated: k = 5, tau2 = 0.1, seed 20261123 (continued)")
# Simulated publication filter: of 80 draws, keep every significant positive study and a third of
# the rest, so the funnel is asymmetric (missing studies on the left).
k <- 80
vi <- runif(k, 0.005, 0.15)
y <- rnorm(k, 0.1, sqrt(vi + 0.01))
keep <- (y / sqrt(vi) > 1.96) | (runif(k) < 1/3)
datasets$sim_biased <- list(yi = y[keep], vi = vi[keep],
                            source = "simulated: publication filter on 80 draws, seed 20261123 (continued)")
# The same, mirrored: missing studies on the right.
datasets$sim_biased_right <- list(yi = -y[keep], vi = vi[keep],
                                  source = "simulated: sim_biased with the sign of yi flipped")
# Meta-regression input: two moderators, one continuous and one binary.
k <- 40
vi <- runif(k, 0.01, 0.1)
x1 <- runif(k, 0, 1)
x2 <- rbinom(k, 1, 0.5)
datasets$sim_reg <- list(yi = rnorm(k, 0.1 + 0.4 * x1 - 0.2 * x2, sqrt(vi + 0.03)), vi = vi, x1 = x1, x2 = x2,
                         source = "simulated: k = 40, yi = 0.1 + 0.4 x1 - 0.2 x2 + u + e, tau2 = 0.03")

num <- function(x) as.numeric(x)

pool_rows <- list()
tau2ci_rows <- list()
egger_rows <- list()
trimfill_rows <- list()
for (name in names(datasets)) {
  d <- datasets[[name]]
  for (method in methods) {
    for (test in c("z", "knha")) {
      # metafor warns that KNHA is "not meant" for FE models but applies it; so do we.
      fit <- suppressWarnings(rma(yi = d$yi, vi = d$vi, method = method, test = test, control = ctrl))
      pr <- predict(fit)
      pool_rows[[length(pool_rows) + 1]] <- list(
        data = name, method = method, knha = (test == "knha"), k = fit$k,
        estimate = num(fit$beta), se = fit$se, ci_low = fit$ci.lb, ci_high = fit$ci.ub,
        # predict() gives no prediction interval for an FE model: recorded as null
        pi_low = if (is.null(pr$pi.lb)) NA_real_ else num(pr$pi.lb),
        pi_high = if (is.null(pr$pi.ub)) NA_real_ else num(pr$pi.ub),
        tau2 = fit$tau2, i2 = fit$I2, h2 = fit$H2, q = fit$QE, q_pvalue = fit$QEp,
        pvalue = fit$pval)
    }
  }
  for (level in c(0.95, 0.90)) {
    fit <- rma(yi = d$yi, vi = d$vi, method = "REML", control = ctrl, level = 100 * level)
    ci <- confint(fit, control = list(tol = 1e-12))
    tau2ci_rows[[length(tau2ci_rows) + 1]] <- list(
      data = name, level = level, tau2_low = ci$random["tau^2", "ci.lb"], tau2_high = ci$random["tau^2", "ci.ub"])
  }
  eg <- regtest(rma(yi = d$yi, vi = d$vi, method = "FE"), model = "lm", predictor = "sei")
  egger_rows[[length(egger_rows) + 1]] <- list(
    data = name, stat = eg$zval, p = eg$pval, df = eg$dfs,
    intercept = num(coef(eg$fit)[2]), limit_estimate = num(eg$est))
  for (method in c("FE", "REML", "DL")) {
    tf <- trimfill(rma(yi = d$yi, vi = d$vi, method = method, control = ctrl), control = ctrl)
    filled <- tf$fill
    trimfill_rows[[length(trimfill_rows) + 1]] <- list(
      data = name, method = method, k0 = tf$k0, side = tf$side,
      estimate = num(tf$beta), se = tf$se, ci_low = tf$ci.lb, ci_high = tf$ci.ub, tau2 = tf$tau2,
      filled_yi = I(if (any(filled)) num(tf$yi[filled]) else numeric(0)),
      filled_vi = I(if (any(filled)) num(tf$vi[filled]) else numeric(0)))
  }
}

metareg_rows <- list()
add_metareg <- function(name, X, yi, vi, terms) {
  for (method in c("FE", "DL", "REML", "ML", "PM")) {
    for (test in c("z", "knha")) {
      fit <- suppressWarnings(rma(yi = yi, vi = vi, mods = X, method = method, test = test, control = ctrl))
      metareg_rows[[length(metareg_rows) + 1]] <<- list(
        data = name, method = method, knha = (test == "knha"), terms = terms,
        coef = num(fit$beta), se = num(fit$se), ci_low = num(fit$ci.lb), ci_high = num(fit$ci.ub),
        pvalue = num(fit$pval), qm = fit$QM, qm_pvalue = fit$QMp, qm_df = fit$QMdf,
        qe = fit$QE, qe_pvalue = fit$QEp, tau2 = fit$tau2,
        r2 = if (is.null(fit$R2)) NA_real_ else fit$R2, i2 = fit$I2, h2 = fit$H2)
    }
  }
}
add_metareg("bcg", cbind(datasets$bcg$ablat, datasets$bcg$year), datasets$bcg$yi, datasets$bcg$vi,
            c("intercept", "ablat", "year"))
add_metareg("sim_reg", cbind(datasets$sim_reg$x1, datasets$sim_reg$x2), datasets$sim_reg$yi,
            datasets$sim_reg$vi, c("intercept", "x1", "x2"))

out <- list(
  generated_by = "tests/reference/metafor.R",
  r_version = R.version.string,
  metafor_version = as.character(packageVersion("metafor")),
  control = ctrl,
  notes = paste("i2, h2 and r2 as metafor reports them: I2 and R2 in percent.",
                "regtest(model = 'lm', predictor = 'sei'): stat is the t statistic of the sei",
                "coefficient (Egger's test), intercept is that coefficient, limit_estimate the",
                "intercept of yi ~ sei (the estimate as sei -> 0)."),
  datasets = datasets, pool = pool_rows, tau2_ci = tau2ci_rows, egger = egger_rows,
  trimfill = trimfill_rows, metareg = metareg_rows)
write_json(out, "tests/reference/metafor.json", digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null")
cat("wrote tests/reference/metafor.json\n")
